using System;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;

namespace TiledEnsemble;

/// <summary>
/// Trains a composed ensemble (<see cref="EnsembleDefinition"/>) into a run folder: all positions in one call, or a
/// shard of them per worker followed by a final step. The default is <see cref="EnsembleTrainer"/>; one of one's own
/// (given to <see cref="TiledEnsembleBuilder.WithTrainer(IEnsembleTrainer)"/>) typically wraps it, to schedule, notify
/// or audit.
/// </summary>
/// <remarks>
/// Contract: every method uses the definition's stages and writes a run folder that
/// <see cref="EnsemblePredictor.Load"/>
/// opens once <see cref="FitAsync"/> or <see cref="FinalizeAsync"/> has returned; calling a method again on the same
/// folder resumes it; cancellation keeps what was finished. Implementations are thread-safe.
/// </remarks>
public interface IEnsembleTrainer
{
    /// <summary>Trains every position and finishes the run (statistics, thresholds, completion mark).</summary>
    Task<FitResult> FitAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        FitOptions options,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Trains the positions of shard <paramref name="index"/> of <paramref name="count"/> into a shared run
    /// folder.</summary>
    Task<ShardResult> TrainShardAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        int index,
        int count,
        FitOptions options,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Finishes a run whose positions were trained by shards.</summary>
    Task<FitResult> FinalizeAsync(
        EnsembleDefinition definition,
        AnomalyDataModule data,
        string runDirectory,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    );
}
