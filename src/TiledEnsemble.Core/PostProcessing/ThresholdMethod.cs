namespace TiledEnsemble.PostProcessing;

/// <summary>How the image and pixel thresholds are chosen.</summary>
public enum ThresholdMethod
{
    /// <summary>The threshold that maximises F1 over the validation predictions (anomalib's
    /// F1AdaptiveThreshold).</summary>
    F1Adaptive,

    /// <summary>Values given by the user (<see cref="ManualThreshold"/>).</summary>
    Manual,

    /// <summary>
    /// From good validation images alone (<see cref="FalseRejectThreshold"/>): the image threshold rejects at most the
    /// given share of good images by their score, the pixel threshold at most that share by the maximum of their map
    /// (so that as few good parts show a masked region). Anomalous validation images are not used.
    /// </summary>
    FalseRejectRate,
}
