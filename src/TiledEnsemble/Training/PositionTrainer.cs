using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Training;

/// <summary>
/// Trains tile positions: each position's model on that position's tiles, its validation predictions cached for the
/// image level, its position-level post-processing calibrated, its state saved atomically with its entry file.
/// </summary>
internal static class PositionTrainer
{
    /// <summary>
    /// Trains those of <paramref name="positions"/> not finished yet; each is saved with its entry file. Returns the
    /// entries of all of them, verified or just written.
    /// </summary>
    public static (int Trained, int Resumed, Dictionary<(int, int), PositionEntry> Entries) TrainAll(
        TrainingRun run,
        RunManifest manifest,
        IReadOnlyCollection<TilePosition> positions,
        ResNet backbone,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var gate = new object();
        var done = RunSetup.Finished(run, manifest, positions);
        var todo = positions.Where(p => !done.ContainsKey((p.Row, p.Column))).ToList();
        int resumed = positions.Count - todo.Count;
        int finished = resumed;
        progress?.Report(
            new EnsembleProgress(
                EnsembleStage.Training,
                finished,
                positions.Count,
                resumed > 0
                    ? $"resuming: {resumed} of {positions.Count} positions already trained"
                    : $"training {positions.Count} positions"
            )
        );

        void TrainOne(TilePosition position, Device device, ResNet onDevice)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = Train(run, position, onDevice, device, cancellationToken);
            PositionEntries.Save(run.RunDirectory, entry);
            lock (gate)
            {
                done[(entry.Row, entry.Column)] = entry;
                finished++;
                progress?.Report(
                    new EnsembleProgress(
                        EnsembleStage.Training,
                        finished,
                        positions.Count,
                        $"position ({position.Row}, {position.Column}) trained on {DeviceNames.Name(device)}"
                    )
                );
            }
        }

        var settings = run.Settings;
        if (settings.TrainingDevices.Count > 1)
        {
            TrainOnDevices(run, todo, manifest, backbone, TrainOne, cancellationToken);
        }
        else if (settings.MaxDegreeOfParallelism <= 1)
        {
            foreach (var position in todo)
            {
                TrainOne(position, run.Device, backbone);
            }
        }
        else
        {
            // Parallel loops schedule on TaskScheduler.Default unless told otherwise: name the current (dedicated) one.
            var parallel = new ParallelOptions
            {
                MaxDegreeOfParallelism = settings.MaxDegreeOfParallelism,
                CancellationToken = cancellationToken,
                TaskScheduler = TaskScheduler.Current,
            };
            Parallel.ForEach(todo, parallel, position => TrainOne(position, run.Device, backbone));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return (todo.Count, resumed, done);
    }

    /// <summary>
    /// One worker per training device, each with its own backbone on its device, takes the next untrained
    /// position until none is left: one model is resident per device, and a fast device simply trains more positions.
    /// Each position's model is seeded by the settings alone, so where it ran changes nothing (for devices of one
    /// kind).
    /// </summary>
    private static void TrainOnDevices(
        TrainingRun run,
        List<TilePosition> todo,
        RunManifest manifest,
        ResNet backbone,
        Action<TilePosition, Device, ResNet> train,
        CancellationToken cancellationToken
    )
    {
        var queue = new ConcurrentQueue<TilePosition>(todo);
        var devices = run.Settings.TrainingDevices.Select(DeviceNames.Parse).ToList();
        var copies = new List<ResNet>();
        try
        {
            // The first device is the run's own: its worker uses the backbone already there.
            var workers = new List<(Device Device, ResNet Backbone)> { (devices[0], backbone) };
            foreach (var device in devices.Skip(1))
            {
                var copy = BackboneStore.Load(run.RunDirectory, manifest, device);
                copies.Add(copy);
                workers.Add((device, copy));
            }

            run.Logger.LogInformation(
                "Training {Count} position(s) on {Devices} device(s) concurrently: {Names}.",
                todo.Count,
                workers.Count,
                string.Join(", ", run.Settings.TrainingDevices)
            );
            var parallel = new ParallelOptions
            {
                MaxDegreeOfParallelism = workers.Count,
                CancellationToken = cancellationToken,
                TaskScheduler = TaskScheduler.Current,
            };
            Parallel.ForEach(workers, parallel, worker =>
            {
                while (!cancellationToken.IsCancellationRequested && queue.TryDequeue(out var position))
                {
                    train(position, worker.Device, worker.Backbone);
                }
            });
        }
        catch (AggregateException aggregate) when (aggregate.InnerExceptions.Count == 1)
        {
            // One device failed: its exception (a diverged position, a full disk) as a one-device run would throw it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(aggregate.InnerExceptions[0]).Throw();
            throw;
        }
        finally
        {
            foreach (var copy in copies)
            {
                copy.Dispose();
            }
        }
    }

    /// <summary>Trains, calibrates and saves one position.</summary>
    private static PositionEntry Train(
        TrainingRun run,
        TilePosition position,
        ResNet backbone,
        Device device,
        CancellationToken cancellationToken
    )
    {
        var definition = run.Definition;
        var settings = run.Settings;
        using var model = definition.Model.Create(new ModelContext(backbone, device, position, settings));
        IEnumerable<Tensor> TrainingTiles() =>
            TileBatches
                .Of(run, run.Data.Train, settings.TrainBatchSize, position, device, cancellationToken, withTruth: false)
                .Select(t => t.Images);
        if (model is ITrainableAnomalyModel trainable)
        {
            TrainEpochs(run, trainable, position, TrainingTiles, device, cancellationToken);
        }
        else
        {
            model.Fit(TrainingTiles(), cancellationToken);
        }

        var post = definition.PostProcessor;
        string? state = null;
        if (post.ProcessesPositions || post.ProcessesImages)
        {
            var predictions = TileBatches.ValidationArrays(run);
            if (post.ProcessesPositions)
            {
                state = Calibrate(
                    post,
                    TileBatches.Calibration(run, model, position, device, predictions, cancellationToken),
                    position,
                    cancellationToken
                );
            }
            else
            {
                predictions = TileBatches.Predict(run, model, position, device, cancellationToken);
            }

            if (post.ProcessesImages)
            {
                new ValidationCache(run.RunDirectory, run.Grid, run.Data.Validation.Count).Write(position, predictions);
            }
        }

        using var modelState = model.ExportState();
        var file = RunStore.SaveState(
            run.RunDirectory,
            Path.Combine("positions", $"r{position.Row}_c{position.Column}.safetensors"),
            modelState
        );
        return new PositionEntry
        {
            Row = position.Row,
            Column = position.Column,
            State = file,
            Statistics = RunStore.StateElement(state),
        };
    }

    /// <summary>
    /// Calibrates the position level on the position's validation batches, which also fill its cached predictions: the
    /// post-processor must read them all.
    /// </summary>
    private static string Calibrate(
        IPostProcessor post,
        IEnumerable<CalibrationBatch> batches,
        TilePosition position,
        CancellationToken cancellationToken
    )
    {
        bool complete = false;
        IEnumerable<CalibrationBatch> Tracked()
        {
            foreach (var batch in batches)
            {
                yield return batch;
            }

            complete = true;
        }

        var fitted = post.Calibrate(PostProcessingLevel.Position, Tracked(), cancellationToken);
        if (!complete)
        {
            throw new InvalidOperationException(
                $"The post-processor '{post.Identity}' stopped reading the validation batches of position "
                    + $"({position.Row}, {position.Column}) before their end; Calibrate must read every batch."
            );
        }

        return fitted.State;
    }

    /// <summary>
    /// Epochs of a gradient-trained model on one position, validated on the position's validation tiles (early stopping
    /// and best weights) when the validation set holds both classes; divergence is reported with the position.
    /// </summary>
    private static void TrainEpochs(
        TrainingRun run,
        ITrainableAnomalyModel model,
        TilePosition position,
        Func<IEnumerable<Tensor>> training,
        Device device,
        CancellationToken cancellationToken
    )
    {
        var validationSamples = run.Data.Validation;
        bool byGoodLoss = model.Training.Monitor == TrainingMetric.GoodImageLoss;
        bool canValidate =
            (byGoodLoss || validationSamples.Any(s => s.Label == SampleLabel.Anomalous))
            && validationSamples.Any(s => s.Label == SampleLabel.Normal);
        Func<IEnumerable<ValidationBatch>>? validation = canValidate
            ? () =>
                TileBatches
                    .Of(run, validationSamples, run.Settings.EvalBatchSize, position, device, cancellationToken)
                    .Select(t => new ValidationBatch(t.Images, t.Labels, t.Masks))
            : null;
        if (!canValidate)
        {
            run.Logger.LogWarning(
                "Position ({Row}, {Column}): the validation set lacks {Missing} images; training runs all {Epochs} "
                    + "epochs without early stopping.",
                position.Row,
                position.Column,
                byGoodLoss ? "normal" : "normal or anomalous",
                model.Training.MaxEpochs
            );
        }

        try
        {
            var summary = model.Train(training, validation, null, cancellationToken);
            run.Logger.LogInformation(
                "Position ({Row}, {Column}): {Epochs} epoch(s), best epoch {Best}, metric {Metric}, final loss "
                    + "{Loss:G4}{Early}.",
                position.Row,
                position.Column,
                summary.Epochs,
                summary.BestEpoch,
                summary.BestMetric,
                summary.FinalLoss,
                summary.StoppedEarly ? ", stopped early" : string.Empty
            );
        }
        catch (TrainingDivergedException exception)
        {
            throw new TrainingDivergedException($"Tile position ({position.Row}, {position.Column})", exception);
        }
    }
}
