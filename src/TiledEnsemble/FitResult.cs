using System;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble;

/// <summary>What
/// <see
/// cref="Ensemble.FitAsync(Data.Datasets.AnomalyDataModule, string, IProgress{EnsembleProgress}?,
/// System.Threading.CancellationToken)"/> did.</summary>
/// <param name="RunDirectory">Where the trained ensemble is.</param>
/// <param name="PositionsTrained">Positions trained in this call.</param>
/// <param name="PositionsResumed">Positions found finished and kept.</param>
/// <param name="Duration">Wall-clock time.</param>
/// <param name="ImageStatistics">Image-stage statistics (null without an image stage).</param>
public sealed record FitResult(
    string RunDirectory,
    int PositionsTrained,
    int PositionsResumed,
    TimeSpan Duration,
    PostProcessingStatistics? ImageStatistics
);
