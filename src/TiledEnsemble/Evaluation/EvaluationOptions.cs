namespace TiledEnsemble.Evaluation;

/// <summary>What evaluation writes besides the metrics.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Folder for visualization panels (and raw outputs); null writes no pictures.</summary>
    public string? VisualizationDirectory { get; init; }

    /// <summary>Draw panels only for wrongly classified images (quadra's plot_only_wrong).</summary>
    public bool PlotOnlyWrong { get; init; }

    /// <summary>Also write the heat map and the predicted mask as separate full-resolution PNGs.</summary>
    public bool RawOutputs { get; init; }

    /// <summary>
    /// Folder for <c>report.html</c> (metrics, ROC and PRO curves, score histogram, the hardest images); null writes
    /// none. With <see cref="VisualizationDirectory"/> set, the report shows and links the pictures.
    /// </summary>
    public string? ReportDirectory { get; init; }

    /// <summary>Images per gallery of the report (hardest anomalous, hardest normal).</summary>
    public int ReportGallerySize { get; init; } = 6;

    /// <summary>
    /// Where pixel metrics are computed: at the images' original resolution (default: a model at 256 and one at 512 are
    /// scored on the same masks) or at the ensemble's image size (anomalib's). See docs/metrics.md.
    /// </summary>
    public MetricResolution Resolution { get; init; } = MetricResolution.Original;

    /// <summary>AUPRO's false-positive-rate limit.</summary>
    public double AuproFprLimit { get; init; } = 0.3;
}
