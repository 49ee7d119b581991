namespace TiledEnsemble;

/// <summary>How
/// <see
/// cref="Ensemble.FitAsync(Data.Datasets.AnomalyDataModule, string, FitOptions, System.IProgress{EnsembleProgress}?,
/// System.Threading.CancellationToken)"/> treats an existing run.</summary>
public sealed record FitOptions
{
    /// <summary>
    /// Resume a run although its training or validation files differ from those it started with (a warning lists the
    /// differences). Off by default: the finished positions were trained on the old data.
    /// </summary>
    public bool AllowChangedData { get; init; }
}
