using System.Collections.Generic;
using System.Threading;
using TiledEnsemble.Joining;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Composition;

/// <summary>Stages that count their calls and otherwise do what the stage they wrap does (same identity).</summary>
internal sealed class CountingJoiner : IJoiner
{
    private readonly IJoiner _inner;
    private int _calls;

    public CountingJoiner(IJoiner inner) => _inner = inner;

    public int Calls => Volatile.Read(ref _calls);

    public StageIdentity Identity => _inner.Identity;

    public JoinedPrediction Join(IReadOnlyList<TilePrediction> predictions, TileGrid grid)
    {
        Interlocked.Increment(ref _calls);
        return _inner.Join(predictions, grid);
    }
}

internal sealed class CountingSeamSmoother : ISeamSmoother
{
    private readonly ISeamSmoother _inner;
    private int _calls;

    public CountingSeamSmoother(ISeamSmoother inner) => _inner = inner;

    public int Calls => Volatile.Read(ref _calls);

    public StageIdentity Identity => _inner.Identity;

    public Tensor Smooth(Tensor maps, TileGrid grid)
    {
        Interlocked.Increment(ref _calls);
        return _inner.Smooth(maps, grid);
    }
}

internal sealed class CountingTiler : ITiler
{
    private readonly ITiler _inner;
    private int _calls;

    public CountingTiler(ITiler inner) => _inner = inner;

    public int Calls => Volatile.Read(ref _calls);

    public StageIdentity Identity => _inner.Identity;

    public TileGrid Grid => _inner.Grid;

    public Tensor TileAt(Tensor images, TilePosition position)
    {
        Interlocked.Increment(ref _calls);
        return _inner.TileAt(images, position);
    }
}

internal sealed class CountingPostProcessor : IPostProcessor
{
    private readonly IPostProcessor _inner;
    private int _calibrations;
    private int _restores;

    public CountingPostProcessor(IPostProcessor inner) => _inner = inner;

    public int Calibrations => Volatile.Read(ref _calibrations);

    public int Restores => Volatile.Read(ref _restores);

    public StageIdentity Identity => _inner.Identity;

    public bool ProcessesPositions => _inner.ProcessesPositions;

    public bool ProcessesImages => _inner.ProcessesImages;

    public IFittedPostProcessor Calibrate(
        PostProcessingLevel level,
        IEnumerable<CalibrationBatch> validation,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _calibrations);
        return _inner.Calibrate(level, validation, cancellationToken);
    }

    public IFittedPostProcessor Restore(PostProcessingLevel level, string state)
    {
        Interlocked.Increment(ref _restores);
        return _inner.Restore(level, state);
    }
}

/// <summary>A tiler of a fixed layout of explicit starts, cutting as the default does.</summary>
internal sealed class FixedLayoutTiler : ITiler
{
    public FixedLayoutTiler(TileGrid grid) => Grid = grid;

    public StageIdentity Identity =>
        new("tests.fixed_layout", new Dictionary<string, string> { ["grid"] = Grid.ToString() });

    public TileGrid Grid { get; }

    public Tensor TileAt(Tensor images, TilePosition position) => EnsembleTiler.Cut(images, Grid, position);
}
