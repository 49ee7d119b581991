using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Persistence;
using TiledEnsemble.Prediction;
using TiledEnsemble.Tiling;
using TiledEnsemble.Training;

namespace TiledEnsemble;

/// <summary>
/// The default <see cref="IEnsembleTrainer"/>: trains tile positions into a run folder one after another (only the
/// model being trained is in memory), each saved atomically with its entry file so that a rerun resumes, then finalizes
/// the run (statistics, thresholds, the completion mark). <see cref="FitAsync"/> does all of it in one process;
/// <see cref="TrainShardAsync"/> lets several processes or machines (a Kubernetes Indexed Job, a Slurm array) fill one
/// shared folder, and <see cref="FinalizeAsync"/> joins them. The result is byte-identical to a one-process run with
/// the same settings and data (docs/scale-out.md). Stateless and thread-safe.
/// </summary>
public sealed class EnsembleTrainer : IEnsembleTrainer
{
    /// <summary>Threads for training and evaluation: one per core plus the one that waits for the loader.</summary>
    internal static int WorkThreads => Environment.ProcessorCount + 1;

    /// <summary>
    /// The positions of shard <paramref name="index"/> of <paramref name="count"/>: those whose row-major number
    /// (<c>row · columns + column</c>) leaves remainder <paramref name="index"/> when divided by <paramref
    /// name="count"/>. Fixed for a grid, so a rerun of a shard trains the same positions; neighbouring positions go to
    /// different shards.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or
    /// <paramref name="index"/> is not in [0, count).</exception>
    public static IReadOnlyList<TilePosition> ShardPositions(TileGrid grid, int index, int count)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (count <= 0 || index < 0 || index >= count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index),
                $"A shard is K of N with N ≥ 1 and 0 ≤ K < N; got {index} of {count}."
            );
        }

        return grid.Positions.Where(p => ((p.Row * grid.Columns) + p.Column) % count == index).ToList();
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The directory holds another run or unrelated files, or there is no
    /// labelled validation data.</exception>
    /// <exception cref="StageMismatchException">The directory holds a run made with other stages.</exception>
    /// <exception cref="RunLockedException">Another training is writing the folder (nothing is changed).</exception>
    /// <exception cref="DataChangedException">Resuming, and the training or validation files differ from those the run
    /// started with.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished positions stay saved.</exception>
    public Task<FitResult> FitAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        FitOptions options,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        if (data.Validation.Count(s => s.Label != SampleLabel.Unknown) == 0)
        {
            throw new InvalidOperationException(
                $"Training needs labelled validation images to compute normalization statistics and thresholds, but "
                    + $"{data.Name}/{data.Category} has none. Use ValSplitMode SameAsTest, FromTest, FromTrain or "
                    + $"Synthetic."
            );
        }

        return RunOnTrainingThreads(
            definition,
            () => Fit(new TrainingRun(definition, data, runDirectory), options, progress, cancellationToken),
            cancellationToken
        );
    }

    /// <inheritdoc />
    /// <remarks>
    /// Creates the run if no worker has yet. Each position is written atomically with its own entry file, so workers
    /// never write the same file and a killed worker loses only its unfinished position; rerunning the shard resumes
    /// it.
    /// </remarks>
    /// <exception cref="ShardClaimedException">A live worker is training the same shard.</exception>
    /// <exception cref="DataChangedException">The data differs from what the run recorded when it was
    /// created.</exception>
    public Task<ShardResult> TrainShardAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        int index,
        int count,
        FitOptions options,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        var positions = ShardPositions(definition.Grid, index, count);
        return RunOnTrainingThreads(
            definition,
            () =>
                TrainShard(
                    new TrainingRun(definition, data, runDirectory),
                    positions,
                    index,
                    count,
                    options,
                    progress,
                    cancellationToken
                ),
            cancellationToken
        );
    }

    /// <inheritdoc />
    /// <remarks>
    /// Checks that every position is present and verifies, computes the validation statistics and thresholds and marks
    /// the run complete — the only writer of the completion mark. Refuses while shard workers are alive.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Positions are missing (listed) or shard workers still
    /// run.</exception>
    public Task<FitResult> FinalizeAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        return RunOnTrainingThreads(
            definition,
            () => Finalize(new TrainingRun(definition, data, runDirectory), progress, cancellationToken),
            cancellationToken
        );
    }

    /// <summary>Runs training work with the allocator settings of training, on dedicated threads that end with
    /// it.</summary>
    private static async Task<T> RunOnTrainingThreads<T>(
        EnsembleDefinition definition,
        Func<T> work,
        CancellationToken cancellationToken
    )
    {
        using var allocator = Hosting.NativeAllocator.BeginTraining(definition.Loggers.CreateLogger<EnsembleTrainer>());

        // A thread per training device beyond the usual ones, so that every device's worker runs at once.
        int threads = WorkThreads + definition.Settings.TrainingDevices.Count;
        return await Hosting
            .DedicatedThreads.RunAsync("TiledEnsemble training", threads, work, cancellationToken)
            .ConfigureAwait(false);
    }

    private static FitResult Fit(
        TrainingRun run,
        FitOptions options,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var watch = Stopwatch.StartNew();
        using var runLock = RunLock.Acquire(run.RunDirectory);
        RunSetup.RefuseLiveShards(run.RunDirectory, "train it in one process");
        var manifest = RunSetup.Open(run, options, shared: false, out var backbone);
        using (backbone)
        {
            var (trained, resumed, entries) = PositionTrainer.TrainAll(
                run,
                manifest,
                run.Grid.Positions,
                backbone,
                progress,
                cancellationToken
            );
            RunFinalizer.Finish(run, manifest, entries, backbone, progress, cancellationToken);
            run.Logger.LogInformation(
                "Trained {Trained} position(s), kept {Resumed}, in {Seconds:F1} s; run saved to {Run}.",
                trained,
                resumed,
                watch.Elapsed.TotalSeconds,
                run.RunDirectory
            );
            return new FitResult(run.RunDirectory, trained, resumed, watch.Elapsed, ImageStatistics(run, manifest));
        }
    }

    private static ShardResult TrainShard(
        TrainingRun run,
        IReadOnlyList<TilePosition> positions,
        int index,
        int count,
        FitOptions options,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var watch = Stopwatch.StartNew();
        using var claim = ShardClaim.Acquire(run.RunDirectory, index, count);
        var manifest = RunSetup.Open(run, options, shared: true, out var backbone);
        using (backbone)
        {
            var (trained, resumed, _) = PositionTrainer.TrainAll(
                run,
                manifest,
                positions,
                backbone,
                progress,
                cancellationToken
            );
            run.Logger.LogInformation(
                "Shard {Index} of {Count}: trained {Trained} position(s), kept {Resumed}, in {Seconds:F1} s.",
                index,
                count,
                trained,
                resumed,
                watch.Elapsed.TotalSeconds
            );
            return new ShardResult(run.RunDirectory, index, count, positions.Count, trained, resumed, watch.Elapsed);
        }
    }

    private static FitResult Finalize(
        TrainingRun run,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var watch = Stopwatch.StartNew();
        using var runLock = RunLock.Acquire(run.RunDirectory);
        RunSetup.RefuseLiveShards(run.RunDirectory, "finalize it");
        var manifest = RunStore.ReadManifest(run.RunDirectory);
        RunSetup.CheckSame(run, manifest);
        var (fingerprint, files) = DataFingerprint.Of(run.Data);
        RunSetup.CheckData(run, manifest, fingerprint, files, new FitOptions(), mayWrite: false);
        using var backbone = BackboneStore.Load(run.RunDirectory, manifest, run.Device);
        var entries = RunSetup.Finished(run, manifest, run.Grid.Positions);
        RunFinalizer.Finish(run, manifest, entries, backbone, progress, cancellationToken);
        return new FitResult(
            run.RunDirectory,
            0,
            manifest.Positions.Count,
            watch.Elapsed,
            ImageStatistics(run, manifest)
        );
    }

    /// <summary>The default post-processor's image-level statistics, for <see cref="FitResult"/>.</summary>
    private static PostProcessing.PostProcessingStatistics? ImageStatistics(TrainingRun run, RunManifest manifest) =>
        FittedPostProcessors.Image(run.Definition, manifest, run.RunDirectory)
            is PostProcessing.CalibratedPostProcessor calibrated
            ? calibrated.Statistics
            : null;
}
