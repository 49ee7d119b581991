using System.Collections.Generic;

namespace TiledEnsemble.Evaluation;

/// <summary>Metrics of an evaluation and the per-image predictions.</summary>
/// <param name="Metrics">image_AUROC, image_F1, image_AUPR, image_TPR_at_1pct_FPR and image_TPR_at_5pct_FPR (the
/// share of anomalous images caught at the best threshold flagging at most 1 % or 5 % of normal ones), pixel_AUROC,
/// pixel_AUPRO, pixel_F1, and
/// image_AUROC_&lt;aggregation&gt; for every image-score aggregation (NaN when undefined, e.g. no anomalous
/// image).</param>
/// <param name="Images">One row per evaluated image.</param>
/// <param name="Pictures">Files written by the visualizer.</param>
public sealed record EvaluationResult(
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<ImageResult> Images,
    IReadOnlyList<string> Pictures
)
{
    /// <summary>Image ROC, pixel ROC and PRO curves (empty where a class is missing).</summary>
    public EvaluationCurves? Curves { get; init; }

    /// <summary>The HTML report written, when <see cref="EvaluationOptions.ReportDirectory"/> was set.</summary>
    public string? Report { get; init; }
}

/// <summary>The curves behind the metrics, for charts.</summary>
/// <param name="ImageRoc">Image-level ROC of the scores.</param>
/// <param name="PixelRoc">Pixel-level ROC of the maps.</param>
/// <param name="Pro">Per-region overlap against pixel false-positive rate.</param>
/// <param name="FprLimit">AUPRO's false-positive-rate limit.</param>
public sealed record EvaluationCurves(
    TiledEnsemble.Metrics.CurvePoints ImageRoc,
    TiledEnsemble.Metrics.CurvePoints PixelRoc,
    TiledEnsemble.Metrics.CurvePoints Pro,
    double FprLimit
);

/// <summary>The prediction for one evaluated image.</summary>
/// <param name="Path">Image file.</param>
/// <param name="GroundTruth">1 anomalous, 0 normal, −1 unknown.</param>
/// <param name="DefectType">Defect folder.</param>
/// <param name="Score">Final (normalized) score.</param>
/// <param name="RawScore">Score before image-stage normalization.</param>
/// <param name="PredictedLabel">Predicted anomalous.</param>
public sealed record ImageResult(
    string Path,
    int GroundTruth,
    string DefectType,
    double Score,
    double RawScore,
    bool PredictedLabel
);
