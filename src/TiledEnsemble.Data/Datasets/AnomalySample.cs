using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Data.Datasets;

/// <summary>One image of a dataset: where it is, its label and defect type, and where its mask is.</summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="Label">Ground truth.</param>
/// <param name="DefectType">"good" for normal images, the defect folder name otherwise, "unknown" without
/// label.</param>
/// <param name="MaskPath">Ground-truth mask file, or null (empty mask for normal images, full mask for anomalous
/// ones).</param>
public sealed record AnomalySample(string ImagePath, SampleLabel Label, string DefectType, string? MaskPath = null)
{
    /// <summary>For synthetic anomalies: the defect painted onto the (normal) image at load time.</summary>
    public SyntheticDefect? Synthetic { get; init; }
}

/// <summary>A defect painted onto a normal image when it is loaded (synthetic test or validation anomalies).</summary>
/// <param name="Kind">Defect kind.</param>
/// <param name="AreaFraction">Defect area as a fraction of the image.</param>
/// <param name="Seed">Painting seed.</param>
public sealed record SyntheticDefect(DefectKind Kind, double AreaFraction, int Seed);
