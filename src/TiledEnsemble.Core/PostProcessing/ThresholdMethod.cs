namespace TiledEnsemble.PostProcessing;

/// <summary>How the image and pixel thresholds are chosen.</summary>
public enum ThresholdMethod
{
    /// <summary>The threshold that maximises F1 over the validation predictions (anomalib's
    /// F1AdaptiveThreshold).</summary>
    F1Adaptive,

    /// <summary>Values given by the user (<see cref="ManualThreshold"/>).</summary>
    Manual,
}
