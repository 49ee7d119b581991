namespace TiledEnsemble.Evaluation;

/// <summary>At which resolution pixel metrics compare anomaly maps with the ground truth.</summary>
public enum MetricResolution
{
    /// <summary>
    /// At each image's size on disk: maps upsampled as <c>Predict</c> returns them (bilinear), predicted masks as
    /// <c>Predict</c> returns them (nearest), against the ground-truth masks as drawn. Comparable across image sizes.
    /// </summary>
    Original,

    /// <summary>At the ensemble's image size, against masks resized to it (nearest): anomalib's convention.</summary>
    ImageSize,
}
