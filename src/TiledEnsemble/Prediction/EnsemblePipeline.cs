using System;
using System.Collections.Generic;
using System.Linq;
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

    /// <summary>Tiles, predicts every position, applies tile-stage post-processing, joins and smooths. Maps and scores are before image-stage normalization.</summary>
    public JoinedPrediction JoinRaw(Tensor images)
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
            var prediction = WithModel(index, position, model => model.Predict(tileImages));
            raw.Add((position, prediction.AnomalyMaps.MoveToOuterDisposeScope(), prediction.Scores.MoveToOuterDisposeScope()));
        }

        return Join(raw).MoveToOuter();
    }

    /// <summary>
    /// Joins raw per-position predictions (computed here, or earlier and cached): tile-stage post-processing, joining,
    /// seam smoothing. Maps and scores are before image-stage normalization.
    /// </summary>
    public JoinedPrediction Join(IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw)
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
        if (_smoother is not null)
        {
            var smoothed = _smoother.Smooth(joined.AnomalyMaps, Grid);
            var result = new JoinedPrediction(smoothed, joined.Scores.alias(), joined.PredictedMasks?.alias(), joined.PredictedLabels?.alias(), null);
            joined.Dispose();
            joined = result;
        }

        return joined.MoveToOuter();
    }

    /// <summary>The full pipeline for images [B, 3, H, W] at the image size.</summary>
    public EnsembleOutput Run(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var joined = JoinRaw(images);
        var maps = joined.AnomalyMaps;
        var scores = joined.Scores;
        Tensor masks, labels;
        if (_settings.ThresholdingStage == Stage.Tile)
        {
            masks = joined.PredictedMasks!;
            labels = joined.PredictedLabels!;
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

        return new EnsembleOutput(finalMaps.MoveToOuterDisposeScope(), finalScores.MoveToOuterDisposeScope(), scores.clone().MoveToOuterDisposeScope(), masks.clone().MoveToOuterDisposeScope(), labels.clone().MoveToOuterDisposeScope());
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

    private ModelPrediction WithModel(int index, TilePosition position, Func<IAnomalyModel, ModelPrediction> run)
    {
        if (_settings.KeepModelsResident)
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
