using System;
using System.Collections.Generic;
using System.Threading;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Training;

/// <summary>The tiles of one position, cut from the data batch by batch, and one model's predictions of them.</summary>
internal static class TileBatches
{
    /// <summary>
    /// The tiles of one position, batch by batch, cut out on the loader's workers (no full-resolution batch is made).
    /// No dispose scope stays open across a yield (the consumer's tensors would land in it); each yielded tensor is
    /// disposed when the consumer asks for the next. Masks and labels are only moved when <c>withTruth</c> is set
    /// (validation); training needs the images alone.
    /// </summary>
    public static IEnumerable<(Tensor Images, Tensor Masks, Tensor Labels)> Of(
        TrainingRun run,
        IReadOnlyList<AnomalySample> samples,
        int batchSize,
        TilePosition position,
        Device device,
        CancellationToken cancellationToken,
        bool withTruth = true
    )
    {
        var tiler = run.Definition.Tiler;
        Tensor CutTile(Tensor image)
        {
            using var scope = NewDisposeScope();
            return tiler.TileAt(image.unsqueeze(0), position).squeeze(0).MoveToOuterDisposeScope();
        }

        foreach (var batch in run.Loader.Batches(samples, batchSize, CutTile, cancellationToken))
        {
            using (batch)
            {
                Tensor images,
                    masks,
                    labels;
                using (var scope = NewDisposeScope())
                {
                    images = batch.Images.to(device).DetachFromDisposeScope();
                    masks = (withTruth ? batch.Masks.to(device) : empty(0)).DetachFromDisposeScope();
                    labels = (withTruth ? batch.Labels.to(device).clone() : empty(0)).DetachFromDisposeScope();
                }

                try
                {
                    yield return (images, masks, labels);
                }
                finally
                {
                    images.Dispose();
                    masks.Dispose();
                    labels.Dispose();
                }
            }
        }
    }

    /// <summary>The arrays that hold one position's raw validation predictions: maps [V·th·tw] and scores
    /// [V].</summary>
    public static (float[] Maps, float[] Scores) ValidationArrays(TrainingRun run)
    {
        var tile = run.Grid.TileSize;
        return (
            new float[run.Data.Validation.Count * (long)tile.Height * tile.Width],
            new float[run.Data.Validation.Count]
        );
    }

    /// <summary>Predicts the validation tiles of one position into <see cref="ValidationArrays"/>.</summary>
    public static (float[] Maps, float[] Scores) Predict(
        TrainingRun run,
        IAnomalyModel model,
        TilePosition position,
        Device device,
        CancellationToken cancellationToken
    )
    {
        var arrays = ValidationArrays(run);
        foreach (var _ in Calibration(run, model, position, device, arrays, cancellationToken)) { }

        return arrays;
    }

    /// <summary>
    /// Predicts the validation tiles of one position, batch by batch, copying raw maps and scores into
    /// <paramref name="into"/>, and yields the labelled tiles of each batch as a post-processor calibrates on them: a
    /// tile is anomalous when its part of the ground-truth mask is (a defect elsewhere does not count). Each yielded
    /// batch is disposed when the next is asked for.
    /// </summary>
    public static IEnumerable<CalibrationBatch> Calibration(
        TrainingRun run,
        IAnomalyModel model,
        TilePosition position,
        Device device,
        (float[] Maps, float[] Scores) into,
        CancellationToken cancellationToken
    )
    {
        var tile = run.Grid.TileSize;
        long tilePixels = (long)tile.Height * tile.Width;
        int offset = 0;
        foreach (
            var (images, masks, labels) in Of(
                run,
                run.Data.Validation,
                run.Settings.EvalBatchSize,
                position,
                device,
                cancellationToken
            )
        )
        {
            CalibrationBatch? batch = null;
            using (var scope = NewDisposeScope())
            {
                using var prediction = model.Predict(images);
                int count = (int)images.shape[0];
                var mapValues = prediction
                    .AnomalyMaps.to_type(ScalarType.Float32)
                    .cpu()
                    .contiguous()
                    .data<float>()
                    .ToArray();
                if (mapValues.Length != count * tilePixels)
                {
                    throw new InvalidOperationException(
                        $"Position ({position.Row}, {position.Column}) predicted maps of {mapValues.Length / count} "
                            + $"pixels "
                            + $"per tile; the tile has {tilePixels}. Models must return maps at the tile size."
                    );
                }

                Array.Copy(mapValues, 0, into.Maps, offset * tilePixels, mapValues.Length);
                prediction.Scores.to_type(ScalarType.Float32).cpu().data<float>().ToArray().CopyTo(into.Scores, offset);
                offset += count;
                var known = labels.ge(Scalars.Zero);
                if (known.any().item<bool>())
                {
                    var tileMasks = masks[known];
                    batch = new CalibrationBatch(
                        prediction.AnomalyMaps[known].DetachFromDisposeScope(),
                        prediction.Scores[known].DetachFromDisposeScope(),
                        tileMasks.amax(new long[] { 1, 2, 3 }).gt(Scalars.Zero).DetachFromDisposeScope(),
                        tileMasks.DetachFromDisposeScope()
                    );
                }
            }

            if (batch is null)
            {
                continue;
            }

            try
            {
                yield return batch;
            }
            finally
            {
                batch.Maps.Dispose();
                batch.Scores.Dispose();
                batch.Labels.Dispose();
                batch.Masks?.Dispose();
            }
        }
    }
}
