using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Configuration;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>
/// Runs a trained ensemble on batches at the image size: tile, predict every position, tile-stage post-processing,
/// join, smooth seams, image-stage post-processing. Thread-safe: models are loaded once under a lock and only read.
/// </summary>
internal sealed class EnsemblePipeline : IDisposable
{
    private readonly EnsembleSettings _settings;
    private readonly EnsembleTiler _tiler;
    private readonly Joiner _joiner;
    private readonly SeamSmoother? _smoother;
    private readonly Func<ModelContext, IAnomalyModel> _factory;
    private readonly ResNet _backbone;
    private readonly Device _device;
    private readonly string _runDirectory;
    private readonly RunManifest _manifest;
    private readonly object _gate = new();
    private IAnomalyModel[]? _resident;

    public EnsemblePipeline(EnsembleSettings settings, Func<ModelContext, IAnomalyModel> factory, ResNet backbone, Device device, string runDirectory, RunManifest manifest)
    {
        _settings = settings;
        _factory = factory;
        _backbone = backbone;
        _device = device;
        _runDirectory = runDirectory;
        _manifest = manifest;
        _tiler = new EnsembleTiler(settings.TileSize, settings.Stride, settings.ImageSize);
        _joiner = new Joiner(_tiler);
        _smoother = settings.SeamSmoothing ? new SeamSmoother(settings.SeamSigma, settings.SeamWidth) : null;
        PositionProcessors = manifest.Positions.OrderBy(p => (p.Row * _tiler.Grid!.Columns) + p.Column)
            .Select(p => p.Statistics is null ? null : new PostProcessor(p.Statistics, settings.NormalizationMethod)).ToArray();
        ImageProcessor = manifest.ImageStatistics is null ? null : new PostProcessor(manifest.ImageStatistics, settings.NormalizationMethod);
    }

    public TileGrid Grid => _tiler.Grid!;

    public PostProcessor?[] PositionProcessors { get; }

    public PostProcessor? ImageProcessor { get; }

    /// <summary>
    /// Images per chunk in <see cref="Finish"/>'s callers: as many as keep one chunk's full-resolution maps within
    /// <see cref="ChunkBytes"/>, at least one.
    /// </summary>
    public long ImagesPerChunk => Math.Max(1, ChunkBytes / ((long)_settings.ImageSize.Height * _settings.ImageSize.Width * sizeof(float)));

    /// <summary>The chunks (first image, image count) in which <see cref="Finish"/> takes a batch of <paramref name="images"/>.</summary>
    public IEnumerable<(long Start, long Count)> Chunks(long images)
    {
        long size = ImagesPerChunk;
        for (long start = 0; start < images; start += size)
        {
            yield return (start, Math.Min(size, images - start));
        }
    }

    /// <summary>The most bytes of full-resolution maps joined and post-processed at once (settable for tests).</summary>
    public long ChunkBytes { get; set; } = DefaultChunkBytes;

    /// <summary>
    /// The default <see cref="ChunkBytes"/>. Each step of joining, seam smoothing and post-processing allocates a tensor
    /// the size of a chunk's maps; blocks above glibc's mmap threshold (32 MiB after training, see
    /// <see cref="Hosting.NativeAllocator"/>) are fresh zeroed pages from the kernel every time. Predicting 16 images of
    /// 1024² in one piece made those steps about 40 ms per image slower than in chunks of 4 (docs/benchmarks.md), while
    /// the models still see the whole batch (Padim reads its statistics once per batch).
    /// </summary>
    public const long DefaultChunkBytes = 16L << 20;

    /// <summary>
    /// Tiles and predicts every position of images [B, 3, H, W] at the image size: the raw per-position predictions. With
    /// <paramref name="makeResident"/> false, models that are not in memory yet are loaded for this call only, one at a
    /// time, even when the settings keep models resident.
    /// </summary>
    public IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> PredictPositions(Tensor images, bool makeResident = true)
    {
        using var scope = NewDisposeScope();
        var onDevice = images.to(_device);
        var raw = new List<(TilePosition Position, Tensor Maps, Tensor Scores)>();
        foreach (var position in Grid.Positions)
        {
            // One position's tiles at a time (as training cuts them): no copy of the whole batch in tile order, which
            // for four 1024² images was a 48 MiB block of fresh pages per batch.
            using var step = NewDisposeScope();
            int index = (position.Row * Grid.Columns) + position.Column;
            var tileImages = _tiler.TileAt(onDevice, position);
            var prediction = WithModel(index, position, makeResident, model => model.Predict(tileImages));
            raw.Add((position, prediction.AnomalyMaps.MoveToOuterDisposeScope(), prediction.Scores.MoveToOuterDisposeScope()));
        }

        foreach (var (_, maps, scores) in raw)
        {
            maps.MoveToOuterDisposeScope();
            scores.MoveToOuterDisposeScope();
        }

        return raw;
    }

    /// <summary>
    /// Joins raw per-position predictions (computed here, or earlier and cached): tile-stage post-processing, joining,
    /// seam smoothing. Maps and scores are before image-stage normalization.
    /// </summary>
    public JoinedPrediction Join(IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw) => Join(raw, false, out _);

    /// <summary>
    /// As <see cref="Join(IReadOnlyList{ValueTuple{TilePosition, Tensor, Tensor}})"/>; with <paramref name="everyAggregation"/>
    /// also the image scores of every <see cref="ImageScoreAggregation"/> ([A, B], rows in declaration order).
    /// </summary>
    public JoinedPrediction Join(IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw, bool everyAggregation, out Tensor? byAggregation)
    {
        using var scope = NewDisposeScope();
        var predictions = new List<TilePrediction>();
        foreach (var (position, rawMaps, rawScores) in raw)
        {
            int index = (position.Row * Grid.Columns) + position.Column;
            var maps = rawMaps;
            var scores = rawScores;
            Tensor? masks = null, labels = null;
            if (PositionProcessors.Length > index && PositionProcessors[index] is { } processor)
            {
                if (_settings.ThresholdingStage == Stage.Tile)
                {
                    masks = processor.MasksFromRawMaps(maps);
                    labels = processor.LabelsFromRawScores(scores);
                }

                if (_settings.NormalizationStage == Stage.Tile)
                {
                    maps = processor.NormalizeMaps(maps);
                    scores = processor.NormalizeScores(scores);
                }
            }

            predictions.Add(new TilePrediction(position, maps, scores) { PredictedMasks = masks, PredictedLabels = labels });
        }

        var joined = _joiner.Join(predictions);
        var smoothed = _smoother is null ? joined.AnomalyMaps.alias() : _smoother.Smooth(joined.AnomalyMaps, Grid);

        // The joiner's score is the mean of positions (anomalib's); the others are made from the same tile scores and the
        // smoothed map, so the position scores are stacked only when one of those is asked for.
        bool joinerScore = _settings.ImageScore == ImageScoreAggregation.MeanOfPositions;
        var positionScores = joinerScore && !everyAggregation ? null : stack(predictions.Select(p => p.Scores.to_type(ScalarType.Float32)));
        var imageScores = joinerScore ? joined.Scores.alias() : ImageScores.Aggregate(_settings.ImageScore, positionScores!, smoothed, _settings.ImageScoreTopK);
        byAggregation = everyAggregation ? ImageScores.All(positionScores!, smoothed, _settings.ImageScoreTopK).MoveToOuterDisposeScope() : null;
        var result = new JoinedPrediction(smoothed, imageScores, joined.PredictedMasks?.alias(), joined.PredictedLabels?.alias(), null);
        joined.Dispose();
        return result.MoveToOuter();
    }

    /// <summary>
    /// The rest of the pipeline for images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/>
    /// of raw per-position predictions: tile-stage post-processing, joining, seam smoothing, image-stage post-processing.
    /// </summary>
    public EnsembleOutput Finish(IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw, long start, long count, bool everyAggregation = false)
    {
        using var scope = NewDisposeScope();
        var slice = raw.Select(r => (r.Position, r.Maps.narrow(0, start, count), r.Scores.narrow(0, start, count))).ToList();
        using var joined = Join(slice, everyAggregation, out var byAggregation);
        var maps = joined.AnomalyMaps;
        var scores = joined.Scores;
        Tensor masks, labels;
        if (_settings.ThresholdingStage == Stage.Tile)
        {
            masks = joined.PredictedMasks!.alias();
            labels = joined.PredictedLabels!.alias();
        }
        else
        {
            var image = ImageProcessor ?? throw new InvalidOperationException("The run has no image-stage statistics; its training did not finish.");
            masks = image.MasksFromRawMaps(maps);
            labels = image.LabelsFromRawScores(scores);
        }

        // Aliases, not the joined tensors themselves: those are disposed with `joined` when this method returns.
        var finalMaps = maps.alias();
        var finalScores = scores.alias();
        if (_settings.NormalizationStage == Stage.Image)
        {
            var image = ImageProcessor ?? throw new InvalidOperationException("The run has no image-stage statistics; its training did not finish.");
            finalMaps = image.NormalizeMaps(maps);
            finalScores = image.NormalizeScores(scores);
        }

        return new EnsembleOutput(finalMaps.MoveToOuterDisposeScope(), finalScores.MoveToOuterDisposeScope(), scores.alias().MoveToOuterDisposeScope(), masks.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope())
        {
            ScoresByAggregation = byAggregation?.MoveToOuterDisposeScope(),
        };
    }

    public void Dispose()
    {
        if (_resident is not null)
        {
            foreach (var model in _resident)
            {
                model.Dispose();
            }
        }
    }

    private ModelPrediction WithModel(int index, TilePosition position, bool makeResident, Func<IAnomalyModel, ModelPrediction> run)
    {
        if (Volatile.Read(ref _resident) is { } resident)
        {
            return run(resident[index]);
        }

        if (_settings.KeepModelsResident && makeResident)
        {
            return run(Resident()[index]);
        }

        using var model = LoadModel(position);
        return run(model);
    }

    private IAnomalyModel[] Resident()
    {
        if (_resident is { } ready)
        {
            return ready;
        }

        lock (_gate)
        {
            _resident ??= Grid.Positions.Select(LoadModel).ToArray();
            return _resident;
        }
    }

    private IAnomalyModel LoadModel(TilePosition position)
    {
        var entry = _manifest.Positions.FirstOrDefault(p => p.Row == position.Row && p.Column == position.Column)
            ?? throw new RunIntegrityException(System.IO.Path.Combine(_runDirectory, RunStore.ManifestFile), $"no trained model for position ({position.Row}, {position.Column}).");
        using var state = RunStore.LoadState(_runDirectory, entry.State);
        var model = _factory(new ModelContext(_backbone, _device, position, _settings));
        try
        {
            model.ImportState(state);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }
}

/// <summary>Moves the tensors of a joined prediction out of the current dispose scope.</summary>
internal static class JoinedPredictionExtensions
{
    public static JoinedPrediction MoveToOuter(this JoinedPrediction joined)
    {
        joined.AnomalyMaps.MoveToOuterDisposeScope();
        joined.Scores.MoveToOuterDisposeScope();
        joined.PredictedMasks?.MoveToOuterDisposeScope();
        joined.PredictedLabels?.MoveToOuterDisposeScope();
        return joined;
    }
}
