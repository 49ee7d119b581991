using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Joining;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using TiledEnsemble.Visualization;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>
/// Runs a definition's stages on batches at the image size: tile, predict every position, position-level
/// post-processing, join, smooth seams, image-level post-processing. Thread-safe: it holds only immutable stages and
/// fitted post-processors.
/// </summary>
internal sealed class EnsemblePipeline
{
    private readonly EnsembleDefinition _definition;
    private readonly IFittedPostProcessor?[] _positionProcessors;

    /// <param name="definition">The stages.</param>
    /// <param name="positionProcessors">Each position's fitted post-processor in row-major order, or empty when
    /// none.</param>
    /// <param name="imageProcessor">The image-level fitted post-processor, or null.</param>
    public EnsemblePipeline(
        EnsembleDefinition definition,
        IReadOnlyList<IFittedPostProcessor?> positionProcessors,
        IFittedPostProcessor? imageProcessor
    )
    {
        _definition = definition;
        _positionProcessors = positionProcessors.ToArray();
        ImageProcessor = imageProcessor;
    }

    public TileGrid Grid => _definition.Grid;

    public IFittedPostProcessor? ImageProcessor { get; }

    /// <summary>The fitted post-processor of the position with row-major number <paramref name="index"/>, if
    /// any.</summary>
    public IFittedPostProcessor? PositionProcessor(int index) =>
        index < _positionProcessors.Length ? _positionProcessors[index] : null;

    /// <summary>
    /// The thresholds on the scale of the final scores and maps: the image level's, else the positions' when they all
    /// agree (tile-stage thresholds after tile-stage normalization all sit at the normalized threshold), else none.
    /// </summary>
    public ScoreThresholds Thresholds
    {
        get
        {
            bool normalized =
                ImageProcessor?.Normalizes == true
                || (_positionProcessors.Length > 0 && _positionProcessors.All(p => p?.Normalizes == true));
            if (ImageProcessor is { ImageThreshold: not null } image)
            {
                return new ScoreThresholds(image.ImageThreshold, image.PixelThreshold, normalized);
            }

            var images = _positionProcessors.Select(p => p?.ImageThreshold).Distinct().ToList();
            var pixels = _positionProcessors.Select(p => p?.PixelThreshold).Distinct().ToList();
            return new ScoreThresholds(
                images.Count == 1 ? images[0] : null,
                pixels.Count == 1 ? pixels[0] : null,
                normalized
            );
        }
    }

    /// <summary>
    /// Images per chunk in <see cref="Finish"/>'s callers: as many as keep one chunk's full-resolution maps within
    /// <see cref="ChunkBytes"/>, at least one.
    /// </summary>
    public long ImagesPerChunk =>
        Math.Max(
            1,
            ChunkBytes
                / ((long)_definition.Settings.ImageSize.Height * _definition.Settings.ImageSize.Width * sizeof(float))
        );

    /// <summary>The most bytes of full-resolution maps joined and post-processed at once (settable for
    /// tests).</summary>
    public long ChunkBytes { get; set; } = DefaultChunkBytes;

    /// <summary>
    /// The default <see cref="ChunkBytes"/>. Each step of joining, seam smoothing and post-processing allocates a
    /// tensor the size of a chunk's maps; blocks above glibc's mmap threshold (32 MiB after training, see <see
    /// cref="Hosting.NativeAllocator"/>) are fresh zeroed pages from the kernel every time. Predicting 16 images of
    /// 1024² in one piece made those steps about 40 ms per image slower than in chunks of 4 (docs/benchmarks.md),
    /// while the models still see the whole batch (Padim reads its statistics once per batch).
    /// </summary>
    public const long DefaultChunkBytes = 16L << 20;

    /// <summary>The chunks (first image, image count) in which <see cref="Finish"/> takes a batch of
    /// <paramref name="images"/>.</summary>
    public IEnumerable<(long Start, long Count)> Chunks(long images)
    {
        long size = ImagesPerChunk;
        for (long start = 0; start < images; start += size)
        {
            yield return (start, Math.Min(size, images - start));
        }
    }

    /// <summary>
    /// Tiles and predicts every position of images [B, 3, H, W] at the image size: the raw per-position predictions.
    /// With <paramref name="makeResident"/> false, models that are not in memory yet are loaded for this call only, one
    /// at a time, even when the settings keep models resident.
    /// </summary>
    public IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> PredictPositions(
        Tensor images,
        PositionModels models,
        torch.Device device,
        bool makeResident = true
    )
    {
        using var scope = NewDisposeScope();
        var onDevice = images.to(device);
        var raw = new List<(TilePosition Position, Tensor Maps, Tensor Scores)>();
        foreach (var position in Grid.Positions)
        {
            // One position's tiles at a time (as training cuts them): no copy of the whole batch in tile order, which
            // for four 1024² images was a 48 MiB block of fresh pages per batch.
            using var step = NewDisposeScope();
            var tileImages = _definition.Tiler.TileAt(onDevice, position);
            var prediction = models.With(position, makeResident, model => model.Predict(tileImages));
            raw.Add(
                (
                    position,
                    prediction.AnomalyMaps.MoveToOuterDisposeScope(),
                    prediction.Scores.MoveToOuterDisposeScope()
                )
            );
        }

        foreach (var (_, maps, scores) in raw)
        {
            maps.MoveToOuterDisposeScope();
            scores.MoveToOuterDisposeScope();
        }

        return raw;
    }

    /// <summary>
    /// Joins raw per-position predictions (computed here, or earlier and cached): position-level post-processing,
    /// joining, seam smoothing. Maps and scores are before image-level post-processing; with
    /// <paramref name="everyAggregation"/> also the image scores of every <see cref="ImageScoreAggregation"/> ([A, B],
    /// rows in declaration order).
    /// </summary>
    public JoinedPrediction Join(
        IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw,
        bool everyAggregation,
        out Tensor? byAggregation
    )
    {
        using var scope = NewDisposeScope();
        var settings = _definition.Settings;
        var predictions = new List<TilePrediction>();
        foreach (var (position, maps, scores) in raw)
        {
            int index = (position.Row * Grid.Columns) + position.Column;
            if (_positionProcessors.Length > index && _positionProcessors[index] is { } processor)
            {
                var processed = processor.Process(maps, scores, null, null);
                predictions.Add(
                    new TilePrediction(position, processed.Maps, processed.Scores)
                    {
                        PredictedMasks = processed.Masks,
                        PredictedLabels = processed.Labels,
                    }
                );
            }
            else
            {
                predictions.Add(new TilePrediction(position, maps, scores));
            }
        }

        var joined = _definition.Joiner.Join(predictions, Grid);
        var smoothed = _definition.SeamSmoother is { } smoother
            ? smoother.Smooth(joined.AnomalyMaps, Grid)
            : joined.AnomalyMaps.alias();

        // The joiner's score is the mean of positions (anomalib's); the others are made from the same tile scores and
        // the smoothed map, so the position scores are stacked only when one of those is asked for.
        bool joinerScore = settings.ImageScore == ImageScoreAggregation.MeanOfPositions;
        var positionScores =
            joinerScore && !everyAggregation
                ? null
                : stack(predictions.Select(p => p.Scores.to_type(ScalarType.Float32)));
        var imageScores = joinerScore
            ? joined.Scores.alias()
            : ImageScores.Aggregate(settings.ImageScore, positionScores!, smoothed, settings.ImageScoreTopK);
        byAggregation = everyAggregation
            ? ImageScores.All(positionScores!, smoothed, settings.ImageScoreTopK).MoveToOuterDisposeScope()
            : null;
        var result = new JoinedPrediction(
            smoothed,
            imageScores,
            joined.PredictedMasks?.alias(),
            joined.PredictedLabels?.alias(),
            null
        );
        joined.Dispose();
        return result.MoveToOuter();
    }

    /// <summary>
    /// The rest of the pipeline for images <paramref name="start"/> to <paramref name="start"/> + <paramref
    /// name="count"/> of raw per-position predictions: position-level post-processing, joining, seam smoothing,
    /// image-level post-processing.
    /// </summary>
    public EnsembleOutput Finish(
        IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> raw,
        long start,
        long count,
        bool everyAggregation = false
    )
    {
        using var scope = NewDisposeScope();
        var slice = raw.Select(r => (r.Position, r.Maps.narrow(0, start, count), r.Scores.narrow(0, start, count)))
            .ToList();
        using var joined = Join(slice, everyAggregation, out var byAggregation);
        var processed = ImageProcessor?.Process(
            joined.AnomalyMaps,
            joined.Scores,
            joined.PredictedMasks,
            joined.PredictedLabels
        )
            ?? new ProcessedPrediction(
                joined.AnomalyMaps.alias(),
                joined.Scores.alias(),
                joined.PredictedMasks?.alias(),
                joined.PredictedLabels?.alias()
            );
        if (processed.Masks is null || processed.Labels is null)
        {
            throw new InvalidOperationException(
                $"The post-processor '{_definition.PostProcessor.Identity}' gave no masks or labels: it must "
                    + $"threshold at the "
                    + "image level, or at the position level when it does not process joined predictions."
            );
        }

        return new EnsembleOutput(
            processed.Maps.MoveToOuterDisposeScope(),
            processed.Scores.MoveToOuterDisposeScope(),
            joined.Scores.alias().MoveToOuterDisposeScope(),
            processed.Masks.MoveToOuterDisposeScope(),
            processed.Labels.MoveToOuterDisposeScope()
        )
        {
            ScoresByAggregation = byAggregation?.MoveToOuterDisposeScope(),
        };
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
