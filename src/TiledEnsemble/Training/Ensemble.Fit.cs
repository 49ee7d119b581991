using System;
using System.Collections.Generic;
using System.Diagnostics;
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
using TiledEnsemble.Prediction;
using TiledEnsemble.Serialization;
using TiledEnsemble.Tiling;
using TiledEnsemble.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>Training: one position after another, each saved atomically with its manifest entry.</summary>
public sealed partial class Ensemble
{
    private FitResult Fit(AnomalyDataModule data, string runDirectory, FitOptions options, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var runLock = RunLock.Acquire(runDirectory);
        RefuseLiveShards(runDirectory, "train it in one process");
        var manifest = OpenRun(runDirectory, data, options, shared: false, out var backbone);
        var (trained, resumed, entries) = TrainPositions(manifest, Grid.Positions, data, runDirectory, backbone, progress, cancellationToken);
        var statistics = FinishRun(manifest, entries, data, runDirectory, backbone, progress, cancellationToken);
        _logger.LogInformation("Trained {Trained} position(s), kept {Resumed}, in {Seconds:F1} s; run saved to {Run}.", trained, resumed, watch.Elapsed.TotalSeconds, runDirectory);
        return new FitResult(runDirectory, trained, resumed, watch.Elapsed, statistics);
    }

    /// <summary>Trains the positions of shard <paramref name="index"/> of <paramref name="count"/> into a shared run folder (see <see cref="EnsembleTrainer"/>).</summary>
    internal ShardResult TrainShard(AnomalyDataModule data, string runDirectory, int index, int count, FitOptions options, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var claim = ShardClaim.Acquire(runDirectory, index, count);
        var manifest = OpenRun(runDirectory, data, options, shared: true, out var backbone);
        _backbone?.Dispose();
        _backbone = backbone;
        var positions = EnsembleTrainer.ShardPositions(Grid, index, count);
        var (trained, resumed, _) = TrainPositions(manifest, positions, data, runDirectory, backbone, progress, cancellationToken);
        _logger.LogInformation("Shard {Index} of {Count}: trained {Trained} position(s), kept {Resumed}, in {Seconds:F1} s.", index, count, trained, resumed, watch.Elapsed.TotalSeconds);
        return new ShardResult(runDirectory, index, count, positions.Count, trained, resumed, watch.Elapsed);
    }

    /// <summary>Checks that every position of a shared run is present and verifies, computes the statistics and marks the run complete.</summary>
    internal FitResult FinalizeRun(AnomalyDataModule data, string runDirectory, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var runLock = RunLock.Acquire(runDirectory);
        RefuseLiveShards(runDirectory, "finalize it");
        var manifest = RunStore.ReadManifest(runDirectory);
        if (manifest.TrainingIdentity != Settings.TrainingIdentity())
        {
            throw new InvalidOperationException($"'{runDirectory}' holds a run trained with other settings ({manifest.TrainingIdentity}); these settings are ({Settings.TrainingIdentity()}).");
        }

        var (fingerprint, files) = DataFingerprint.Of(data);
        CheckData(runDirectory, manifest, fingerprint, files, new FitOptions(), mayWrite: false);
        var backbone = LoadBackbone(runDirectory, manifest);
        _backbone?.Dispose();
        _backbone = backbone;
        var statistics = FinishRun(manifest, Finished(runDirectory, manifest, Grid.Positions), data, runDirectory, backbone, progress, cancellationToken);
        return new FitResult(runDirectory, 0, manifest.Positions.Count, watch.Elapsed, statistics);
    }

    private static void RefuseLiveShards(string runDirectory, string action)
    {
        var live = ShardClaim.Live(runDirectory);
        if (live.Length > 0)
        {
            var (_, holder) = live[0];
            throw new InvalidOperationException($"'{runDirectory}' is being trained by {live.Length} shard worker(s) (shard {holder.Index} of {holder.Count}: process {holder.ProcessId} on host {holder.Host}); wait for them before you {action}.");
        }
    }

    /// <summary>
    /// Those of <paramref name="positions"/> that are finished and whose states verify: their entry files, and the entries
    /// of older manifests. Only the positions asked for are read (a shard does not hash the others' states).
    /// </summary>
    private Dictionary<(int, int), PositionEntry> Finished(string runDirectory, RunManifest manifest, IReadOnlyCollection<TilePosition> positions)
    {
        var wanted = positions.Select(p => (p.Row, p.Column)).ToHashSet();
        var finished = new Dictionary<(int, int), PositionEntry>();
        foreach (var entry in manifest.Positions.Concat(PositionEntries.LoadAll(runDirectory)).Where(e => wanted.Contains((e.Row, e.Column))))
        {
            try
            {
                RunStore.Verify(runDirectory, entry.State);
                finished[(entry.Row, entry.Column)] = entry;
            }
            catch (RunIntegrityException exception)
            {
                _logger.LogWarning("Position ({Row}, {Column}) will be trained again: {Reason}", entry.Row, entry.Column, exception.Message);
                finished.Remove((entry.Row, entry.Column));
            }
        }

        return finished;
    }

    /// <summary>
    /// Trains those of <paramref name="positions"/> not finished yet; each is saved with its entry file. Returns the entries
    /// of all of them, verified or just written.
    /// </summary>
    private (int Trained, int Resumed, Dictionary<(int, int), PositionEntry> Entries) TrainPositions(RunManifest manifest, IReadOnlyCollection<TilePosition> positions, AnomalyDataModule data, string runDirectory, ResNet backbone, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken)
    {
        var loader = LoaderFor(data.Loader);
        var tiler = new EnsembleTiler(Settings.TileSize, Settings.Stride, Settings.ImageSize);
        bool tileStatistics = Settings.NormalizationStage == Stage.Tile || Settings.ThresholdingStage == Stage.Tile;
        var done = Finished(runDirectory, manifest, positions);
        var todo = positions.Where(p => !done.ContainsKey((p.Row, p.Column))).ToList();
        int resumed = positions.Count - todo.Count;
        int finished = resumed;
        progress?.Report(new EnsembleProgress(EnsembleStage.Training, finished, positions.Count, resumed > 0 ? $"resuming: {resumed} of {positions.Count} positions already trained" : $"training {positions.Count} positions"));

        void TrainOne(TilePosition position, Device device, ResNet onDevice)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = TrainPosition(position, tiler, loader, data, onDevice, device, runDirectory, tileStatistics, cancellationToken);
            PositionEntries.Save(runDirectory, entry);
            lock (_gate)
            {
                done[(entry.Row, entry.Column)] = entry;
                finished++;
                progress?.Report(new EnsembleProgress(EnsembleStage.Training, finished, positions.Count, $"position ({position.Row}, {position.Column}) trained on {DeviceNames.Name(device)}"));
            }
        }

        if (Settings.TrainingDevices.Count > 1)
        {
            TrainOnDevices(todo, manifest, runDirectory, backbone, TrainOne, cancellationToken);
        }
        else if (Settings.MaxDegreeOfParallelism <= 1)
        {
            foreach (var position in todo)
            {
                TrainOne(position, _device, backbone);
            }
        }
        else
        {
            // Parallel loops schedule on TaskScheduler.Default unless told otherwise: name the current (dedicated) one.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Settings.MaxDegreeOfParallelism, CancellationToken = cancellationToken, TaskScheduler = TaskScheduler.Current };
            Parallel.ForEach(todo, parallel, position => TrainOne(position, _device, backbone));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return (todo.Count, resumed, done);
    }

    /// <summary>
    /// One worker per training device, each with its own backbone on its device, takes the next untrained
    /// position until none is left: one model is resident per device, and a fast device simply trains more positions.
    /// Each position's model is seeded by the settings alone, so where it ran changes nothing (for devices of one kind).
    /// </summary>
    private void TrainOnDevices(List<TilePosition> todo, RunManifest manifest, string runDirectory, ResNet backbone, Action<TilePosition, Device, ResNet> train, CancellationToken cancellationToken)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<TilePosition>(todo);
        var devices = Settings.TrainingDevices.Select(DeviceNames.Parse).ToList();
        var copies = new List<ResNet>();
        try
        {
            var workers = new List<(Device Device, ResNet Backbone)>();
            // The first device is the ensemble's own: its worker uses the backbone already there.
            workers.Add((devices[0], backbone));
            foreach (var device in devices.Skip(1))
            {
                var copy = LoadBackbone(runDirectory, manifest, device);
                copies.Add(copy);
                workers.Add((device, copy));
            }

            _logger.LogInformation("Training {Count} position(s) on {Devices} device(s) concurrently: {Names}.", todo.Count, workers.Count, string.Join(", ", Settings.TrainingDevices));
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers.Count, CancellationToken = cancellationToken, TaskScheduler = TaskScheduler.Current };
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

    /// <summary>
    /// Gathers every position's entry into the manifest, computes the image-stage statistics and marks the run complete:
    /// the one step that writes the completion mark, in one process or after the shards.
    /// </summary>
    /// <exception cref="InvalidOperationException">Positions are missing; the message lists them.</exception>
    private PostProcessingStatistics? FinishRun(RunManifest manifest, Dictionary<(int, int), PositionEntry> done, AnomalyDataModule data, string runDirectory, ResNet backbone, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken)
    {
        var missing = Grid.Positions.Where(p => !done.ContainsKey((p.Row, p.Column))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"'{runDirectory}' lacks {missing.Count} of {Grid.Count} positions (first: {string.Join(", ", missing.Take(5).Select(p => $"({p.Row}, {p.Column})"))}); train their shards before finalizing.");
        }

        manifest.Positions = done.Values.OrderBy(e => (e.Row * Grid.Columns) + e.Column).ToList();

        // The image-stage statistics below are of this aggregation: the run records it (it is not part of the training
        // identity, so a run can be finalized again with another).
        manifest.Settings = manifest.Settings! with { ImageScore = Settings.ImageScore, ImageScoreTopK = Settings.ImageScoreTopK };
        var loader = LoaderFor(data.Loader);
        var tiler = new EnsembleTiler(Settings.TileSize, Settings.Stride, Settings.ImageSize);
        manifest.ImageStatistics = null;
        if (Settings.NormalizationStage == Stage.Image || Settings.ThresholdingStage == Stage.Image)
        {
            // Position by position, each model predicts all validation tiles once into a cache file; then the joined
            // predictions are built batch by batch from those files. Only one tile model is ever in memory, whatever the
            // grid (keeping every model resident here made the training peak grow with the number of positions).
            var cache = new ValidationCache(runDirectory, Grid, Settings.TileSize, data.Validation.Count);
            foreach (var position in Grid.Positions.Where(p => !cache.Has(p)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = manifest.Positions.Single(e => e.Row == position.Row && e.Column == position.Column);
                using var state = RunStore.LoadState(runDirectory, entry.State);
                using var model = _factory(new ModelContext(backbone, _device, position, Settings));
                model.ImportState(state);
                cache.Write(position, PredictTiles(model, loader, data.Validation, tiler, position, _device, cancellationToken));
            }

            using var pipeline = new EnsemblePipeline(Settings, _factory, backbone, _device, runDirectory, manifest);
            var collector = new StatisticsCollector(_logger);
            int seen = 0;
            foreach (var batch in loader.Batches(data.Validation, Settings.EvalBatchSize, cancellationToken))
            {
                using (batch)
                {
                    using var scope = NewDisposeScope();
                    var raw = Grid.Positions.Select(p => cache.Read(p, seen, batch.Count, _device)).ToList();
                    using var joined = pipeline.Join(raw);
                    var known = batch.Labels.ge(Scalars.Zero).to(_device);
                    if (known.any().item<bool>())
                    {
                        collector.Update(joined.Scores[known], batch.Labels.to(_device)[known], joined.AnomalyMaps[known], batch.Masks.to(_device)[known]);
                    }

                    seen += batch.Count;
                    progress?.Report(new EnsembleProgress(EnsembleStage.Validating, seen, data.Validation.Count, "image-stage statistics"));
                }
            }

            manifest.ImageStatistics = collector.Build(Settings.ManualThreshold);
            cache.Delete();
        }

        manifest.Complete = true;
        RunStore.WriteManifest(runDirectory, manifest);
        Open(runDirectory, manifest);
        return manifest.ImageStatistics;
    }

    /// <summary>
    /// The run's manifest and backbone: created when the folder holds no run (by several workers at once when
    /// <paramref name="shared"/>: the first to place each file wins, the others check that theirs is equal), or opened and
    /// checked against these settings and this data.
    /// </summary>
    private RunManifest OpenRun(string runDirectory, AnomalyDataModule data, FitOptions options, bool shared, out ResNet backbone)
    {
        Directory.CreateDirectory(runDirectory);
        var manifestPath = Path.Combine(runDirectory, RunStore.ManifestFile);
        var (fingerprint, files) = DataFingerprint.Of(data);
        if (!File.Exists(manifestPath))
        {
            if (!shared && Directory.EnumerateFileSystemEntries(runDirectory).Any(e => Path.GetFileName(e) is not (RunLock.LockFile or RunLock.HolderFile)))
            {
                throw new InvalidOperationException($"'{runDirectory}' is not empty and holds no run manifest; refusing to write a run into it. Choose an empty or new directory.");
            }

            var created = CreateRun(runDirectory, fingerprint, files, out backbone);
            if (RunStore.CreateManifest(runDirectory, created))
            {
                return created;
            }

            backbone.Dispose();
        }

        var existing = RunStore.ReadManifest(runDirectory);
        if (existing.TrainingIdentity != Settings.TrainingIdentity())
        {
            throw new InvalidOperationException($"'{runDirectory}' holds a run trained with other settings ({existing.TrainingIdentity}); these settings are ({Settings.TrainingIdentity()}). Choose another directory; the existing run is left untouched.");
        }

        CheckData(runDirectory, existing, fingerprint, files, options, mayWrite: !shared);
        backbone = LoadBackbone(runDirectory, existing);
        existing.Complete = false;
        return existing;
    }

    /// <summary>A new run's backbone file, data record and manifest (not yet written); files are placed write-once.</summary>
    private RunManifest CreateRun(string runDirectory, DataFingerprint fingerprint, List<DataFileRecord> files, out ResNet backbone)
    {
        (backbone, var source, var provenance) = CreateBackbone();
        backbone.to(_device);
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in backbone.named_parameters())
        {
            state[name] = parameter;
        }

        foreach (var (name, buffer) in backbone.named_buffers())
        {
            state[name] = buffer;
        }

        var metadata = new Dictionary<string, string>(provenance ?? new Dictionary<string, string>()) { ["backbone"] = Settings.Backbone, ["backbone_source"] = source };
        var backbonePath = Path.Combine(runDirectory, BackboneFile);
        var temporary = Path.Combine(runDirectory, $".{BackboneFile}.{Guid.NewGuid():N}.tmp");
        SafeTensors.Save(temporary, state, metadata);
        RunStore.PlaceOnce(temporary, backbonePath);
        DataFingerprint.Save(runDirectory, files);
        return new RunManifest
        {
            LibraryVersion = RunStore.LibraryVersion,
            Settings = Settings,
            TrainingIdentity = Settings.TrainingIdentity(),
            Rows = Grid.Rows,
            Columns = Grid.Columns,
            Backbone = new FileEntry { File = BackboneFile, Sha256 = RunStore.HashFile(backbonePath) },
            BackboneSource = source,
            BackboneProvenance = provenance,
            Data = fingerprint,
        };
    }

    /// <summary>Refuses to resume on other data than the run started with, unless told to (then records the new data, where allowed to write).</summary>
    private void CheckData(string runDirectory, RunManifest existing, DataFingerprint fingerprint, List<DataFileRecord> files, FitOptions options, bool mayWrite)
    {
        var recorded = DataFingerprint.Load(runDirectory);
        string? differences = recorded is null ? null : DataFingerprint.Differences(recorded, files);
        if (recorded is null)
        {
            _logger.LogWarning("'{Run}' recorded no data fingerprint (written by an older version); the data cannot be compared.", runDirectory);
        }
        else if (differences is not null && !options.AllowChangedData)
        {
            throw new DataChangedException(runDirectory, differences);
        }
        else if (differences is not null)
        {
            _logger.LogWarning("Resuming '{Run}' on changed data, as allowed: {Differences}", runDirectory, differences);
        }

        if (mayWrite && (recorded is null || differences is not null))
        {
            DataFingerprint.Save(runDirectory, files);
            existing.Data = fingerprint;
            RunStore.WriteManifest(runDirectory, existing);
        }
    }

    private PositionEntry TrainPosition(TilePosition position, EnsembleTiler tiler, SampleLoader loader, AnomalyDataModule data, ResNet backbone, Device device, string runDirectory, bool tileStatistics, CancellationToken cancellationToken)
    {
        using var model = _factory(new ModelContext(backbone, device, position, Settings));
        IEnumerable<Tensor> TrainingTiles() => Tiles(loader, data.Train, Settings.TrainBatchSize, tiler, position, device, cancellationToken, withTruth: false).Select(t => t.Images);
        if (model is ITrainableAnomalyModel trainable)
        {
            TrainEpochs(trainable, position, TrainingTiles, tiler, loader, data, device, cancellationToken);
        }
        else
        {
            model.Fit(TrainingTiles(), cancellationToken);
        }

        PostProcessingStatistics? statistics = null;
        bool imageStatistics = Settings.NormalizationStage == Stage.Image || Settings.ThresholdingStage == Stage.Image;
        if (tileStatistics || imageStatistics)
        {
            var cache = new ValidationCache(runDirectory, Grid, Settings.TileSize, data.Validation.Count);
            var collector = new StatisticsCollector(_logger);
            var predictions = PredictTiles(model, loader, data.Validation, tiler, position, device, cancellationToken, (prediction, masks, labels) =>
            {
                if (!tileStatistics)
                {
                    return;
                }

                using var scope = NewDisposeScope();
                var known = labels.ge(Scalars.Zero);
                if (known.any().item<bool>())
                {
                    // A tile is anomalous when its part of the ground-truth mask is; a defect elsewhere does not count.
                    var tileMasks = masks[known];
                    collector.Update(prediction.Scores[known], tileMasks.amax(new long[] { 1, 2, 3 }).gt(Scalars.Zero), prediction.AnomalyMaps[known], tileMasks);
                }
            });
            if (imageStatistics)
            {
                cache.Write(position, predictions);
            }

            if (tileStatistics)
            {
                statistics = collector.Build(Settings.ManualThreshold);
            }
        }

        using var state = model.ExportState();
        var file = RunStore.SaveState(runDirectory, Path.Combine("positions", $"r{position.Row}_c{position.Column}.safetensors"), state);
        return new PositionEntry { Row = position.Row, Column = position.Column, State = file, Statistics = statistics };
    }

    /// <summary>
    /// Epochs of a gradient-trained model on one position, validated on the position's validation tiles (early stopping
    /// and best weights) when the validation set holds both classes; divergence is reported with the position.
    /// </summary>
    private void TrainEpochs(ITrainableAnomalyModel model, TilePosition position, Func<IEnumerable<Tensor>> training, EnsembleTiler tiler, SampleLoader loader, AnomalyDataModule data, Device device, CancellationToken cancellationToken)
    {
        bool canValidate = data.Validation.Any(s => s.Label == SampleLabel.Anomalous) && data.Validation.Any(s => s.Label == SampleLabel.Normal);
        Func<IEnumerable<ValidationBatch>>? validation = canValidate
            ? () => Tiles(loader, data.Validation, Settings.EvalBatchSize, tiler, position, device, cancellationToken).Select(t => new ValidationBatch(t.Images, t.Labels, t.Masks))
            : null;
        if (!canValidate)
        {
            _logger.LogWarning("Position ({Row}, {Column}): the validation set lacks normal or anomalous images; training runs all {Epochs} epochs without early stopping.", position.Row, position.Column, model.Training.MaxEpochs);
        }

        try
        {
            var summary = model.Train(training, validation, null, cancellationToken);
            _logger.LogInformation("Position ({Row}, {Column}): {Epochs} epoch(s), best epoch {Best}, metric {Metric}, final loss {Loss:G4}{Early}.", position.Row, position.Column, summary.Epochs, summary.BestEpoch, summary.BestMetric, summary.FinalLoss, summary.StoppedEarly ? ", stopped early" : string.Empty);
        }
        catch (TrainingDivergedException exception)
        {
            throw new TrainingDivergedException($"Tile position ({position.Row}, {position.Column})", exception);
        }
    }

    /// <summary>
    /// Predicts the validation tiles of one position; returns raw maps [V·th·tw] and scores [V] as floats (CPU), and
    /// lets <paramref name="observe"/> see each batch with its tile masks and labels.
    /// </summary>
    private (float[] Maps, float[] Scores) PredictTiles(IAnomalyModel model, SampleLoader loader, IReadOnlyList<AnomalySample> samples, EnsembleTiler tiler, TilePosition position, Device device, CancellationToken cancellationToken, Action<ModelPrediction, Tensor, Tensor>? observe = null)
    {
        long tilePixels = (long)Settings.TileSize.Height * Settings.TileSize.Width;
        var maps = new float[samples.Count * tilePixels];
        var scores = new float[samples.Count];
        int offset = 0;
        foreach (var (images, masks, labels) in Tiles(loader, samples, Settings.EvalBatchSize, tiler, position, device, cancellationToken))
        {
            using var scope = NewDisposeScope();
            using var prediction = model.Predict(images);
            observe?.Invoke(prediction, masks, labels);
            int count = (int)images.shape[0];
            var mapValues = prediction.AnomalyMaps.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            if (mapValues.Length != count * tilePixels)
            {
                throw new InvalidOperationException($"Position ({position.Row}, {position.Column}) predicted maps of {mapValues.Length / count} pixels per tile; the tile has {tilePixels}. Models must return maps at the tile size.");
            }

            Array.Copy(mapValues, 0, maps, offset * tilePixels, mapValues.Length);
            prediction.Scores.to_type(ScalarType.Float32).cpu().data<float>().ToArray().CopyTo(scores, offset);
            offset += count;
        }

        return (maps, scores);
    }

    /// <summary>
    /// The tiles of one position, batch by batch, cut out on the loader's workers (no full-resolution batch is made). No
    /// dispose scope stays open across a yield (the consumer's tensors would land in it); each yielded tensor is disposed
    /// when the consumer asks for the next. Masks and labels are only moved when <c>withTruth</c> is set (validation);
    /// training needs the images alone.
    /// </summary>
    private IEnumerable<(Tensor Images, Tensor Masks, Tensor Labels)> Tiles(SampleLoader loader, IReadOnlyList<AnomalySample> samples, int batchSize, EnsembleTiler tiler, TilePosition position, Device device, CancellationToken cancellationToken, bool withTruth = true)
    {
        Tensor CutTile(Tensor image)
        {
            using var scope = NewDisposeScope();
            return tiler.TileAt(image.unsqueeze(0), position).squeeze(0).MoveToOuterDisposeScope();
        }

        foreach (var batch in loader.Batches(samples, batchSize, CutTile, cancellationToken))
        {
            using (batch)
            {
                Tensor images, masks, labels;
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
}
