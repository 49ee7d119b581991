using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Prediction;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Training;

/// <summary>
/// The last step of a training: gathers every position's entry into the manifest, calibrates the image level and marks
/// the run complete — in one process or after the shards.
/// </summary>
internal static class RunFinalizer
{
    /// <exception cref="InvalidOperationException">Positions are missing; the message lists them.</exception>
    public static void Finish(
        TrainingRun run,
        RunManifest manifest,
        Dictionary<(int, int), PositionEntry> done,
        ResNet backbone,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var grid = run.Grid;
        var missing = grid.Positions.Where(p => !done.ContainsKey((p.Row, p.Column))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"'{run.RunDirectory}' lacks {missing.Count} of {grid.Count} positions (first: "
                    + $"{string.Join(", ", missing.Take(5).Select(p => $"({p.Row}, {p.Column})"))}); train their "
                    + $"shards before finalizing."
            );
        }

        manifest.Positions = done.Values.OrderBy(e => (e.Row * grid.Columns) + e.Column).ToList();

        // The image-level statistics below are of this aggregation: the run records it (it is not part of the training
        // identity, so a run can be finalized again with another).
        manifest.Settings = manifest.Settings! with
        {
            ImageScore = run.Settings.ImageScore,
            ImageScoreTopK = run.Settings.ImageScoreTopK,
        };
        manifest.ImageStatistics = null;
        var post = run.Definition.PostProcessor;
        if (post.ProcessesImages)
        {
            var cache = new ValidationCache(run.RunDirectory, grid, run.Data.Validation.Count);
            FillCache(run, manifest, cache, backbone, cancellationToken);
            var pipeline = new EnsemblePipeline(
                run.Definition,
                FittedPostProcessors.Positions(run.Definition, manifest, run.RunDirectory),
                null
            );
            bool complete = false;
            IEnumerable<CalibrationBatch> Tracked()
            {
                foreach (var batch in Joined(run, pipeline, cache, progress, cancellationToken))
                {
                    yield return batch;
                }

                complete = true;
            }

            var fitted = post.Calibrate(PostProcessingLevel.Image, Tracked(), cancellationToken);
            if (!complete)
            {
                throw new InvalidOperationException(
                    $"The post-processor '{post.Identity}' stopped reading the joined validation batches before "
                        + $"their end; "
                        + "Calibrate must read every batch."
                );
            }

            manifest.ImageStatistics = RunStore.StateElement(fitted.State);
            cache.Delete();
        }

        manifest.Complete = true;
        RunStore.WriteManifest(run.RunDirectory, manifest);
    }

    /// <summary>
    /// Position by position, each model predicts all validation tiles once into a cache file: only one tile model is
    /// ever in memory, whatever the grid (keeping every model resident here made the training peak grow with the
    /// positions).
    /// </summary>
    private static void FillCache(
        TrainingRun run,
        RunManifest manifest,
        ValidationCache cache,
        ResNet backbone,
        CancellationToken cancellationToken
    )
    {
        var models = new PositionModels(run.Definition, backbone, run.Device, run.RunDirectory, manifest);
        foreach (var position in run.Grid.Positions.Where(p => !cache.Has(p)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var model = models.Load(position);
            cache.Write(position, TileBatches.Predict(run, model, position, run.Device, cancellationToken));
        }
    }

    /// <summary>The joined, seam-smoothed validation predictions of the labelled images, batch by batch, from the
    /// cache.</summary>
    private static IEnumerable<CalibrationBatch> Joined(
        TrainingRun run,
        EnsemblePipeline pipeline,
        ValidationCache cache,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var validation = run.Data.Validation;
        int seen = 0;
        foreach (var batch in run.Loader.Batches(validation, run.Settings.EvalBatchSize, cancellationToken))
        {
            using (batch)
            {
                CalibrationBatch? labelled = null;
                using (var scope = NewDisposeScope())
                {
                    var raw = run.Grid.Positions.Select(p => cache.Read(p, seen, batch.Count, run.Device)).ToList();
                    using var joined = pipeline.Join(raw, false, out _);
                    var known = batch.Labels.ge(Scalars.Zero).to(run.Device);
                    if (known.any().item<bool>())
                    {
                        labelled = new CalibrationBatch(
                            joined.AnomalyMaps[known].DetachFromDisposeScope(),
                            joined.Scores[known].DetachFromDisposeScope(),
                            batch.Labels.to(run.Device)[known].DetachFromDisposeScope(),
                            batch.Masks.to(run.Device)[known].DetachFromDisposeScope()
                        );
                    }
                }

                seen += batch.Count;
                if (labelled is not null)
                {
                    try
                    {
                        yield return labelled;
                    }
                    finally
                    {
                        labelled.Maps.Dispose();
                        labelled.Scores.Dispose();
                        labelled.Labels.Dispose();
                        labelled.Masks?.Dispose();
                    }
                }

                progress?.Report(
                    new EnsembleProgress(EnsembleStage.Validating, seen, validation.Count, "image-stage statistics")
                );
            }
        }
    }
}
