using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Tiling;

namespace TiledEnsemble;

/// <summary>
/// The training half of an ensemble: trains a given set of tile positions into a run folder, resumably, and finalizes
/// the run (statistics, thresholds, the completion mark). <see cref="Ensemble.FitAsync(AnomalyDataModule, string, IProgress{EnsembleProgress}?, CancellationToken)"/>
/// is every position in one process followed by the final step; <see cref="TrainShardAsync"/> lets several processes or
/// machines (a Kubernetes Indexed Job, a Slurm array) fill one shared folder, and <see cref="FinalizeAsync"/> joins
/// them. The result is byte-identical to a one-process run with the same settings and data (docs/scale-out.md).
/// </summary>
public sealed class EnsembleTrainer
{
    private readonly Ensemble _ensemble;

    /// <summary>A trainer for <paramref name="ensemble"/>'s settings, model factory and device.</summary>
    public EnsembleTrainer(Ensemble ensemble) => _ensemble = ensemble ?? throw new ArgumentNullException(nameof(ensemble));

    /// <summary>
    /// The positions of shard <paramref name="index"/> of <paramref name="count"/>: those whose row-major number
    /// (<c>row · columns + column</c>) leaves remainder <paramref name="index"/> when divided by <paramref name="count"/>.
    /// Fixed for a grid, so a rerun of a shard trains the same positions; neighbouring positions go to different shards.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or <paramref name="index"/> is not in [0, count).</exception>
    public static IReadOnlyList<TilePosition> ShardPositions(TileGrid grid, int index, int count)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (count <= 0 || index < 0 || index >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"A shard is K of N with N ≥ 1 and 0 ≤ K < N; got {index} of {count}.");
        }

        return grid.Positions.Where(p => ((p.Row * grid.Columns) + p.Column) % count == index).ToList();
    }

    /// <summary>
    /// Trains the positions of shard <paramref name="index"/> of <paramref name="count"/> into <paramref name="runDirectory"/>,
    /// creating the run if no worker has yet. Each position is written atomically with its own entry file, so workers
    /// never write the same file and a killed worker loses only its unfinished position; rerunning the shard resumes it.
    /// </summary>
    /// <exception cref="Persistence.ShardClaimedException">A live worker is training the same shard.</exception>
    /// <exception cref="Persistence.DataChangedException">The data differs from what the run recorded when it was created.</exception>
    public Task<ShardResult> TrainShardAsync(AnomalyDataModule data, string runDirectory, int index, int count, FitOptions? options = null, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        _ = ShardPositions(_ensemble.Grid, index, count);
        return _ensemble.RunTraining(() => _ensemble.TrainShard(data, runDirectory, index, count, options ?? new FitOptions(), progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Checks that every position is present and verifies, computes the validation statistics and thresholds and marks
    /// the run complete — the only writer of the completion mark. Refuses while shard workers are alive.
    /// </summary>
    /// <exception cref="InvalidOperationException">Positions are missing (listed) or shard workers still run.</exception>
    public Task<FitResult> FinalizeAsync(AnomalyDataModule data, string runDirectory, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        return _ensemble.RunTraining(() => _ensemble.FinalizeRun(data, runDirectory, progress, cancellationToken), cancellationToken);
    }
}

/// <summary>What one shard worker did.</summary>
/// <param name="RunDirectory">The shared run folder.</param>
/// <param name="Index">Shard index K.</param>
/// <param name="Count">Shard count N.</param>
/// <param name="Positions">Positions in the shard.</param>
/// <param name="PositionsTrained">Positions trained now.</param>
/// <param name="PositionsResumed">Positions found finished.</param>
/// <param name="Duration">Wall time.</param>
public sealed record ShardResult(string RunDirectory, int Index, int Count, int Positions, int PositionsTrained, int PositionsResumed, TimeSpan Duration);
