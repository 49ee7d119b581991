namespace TiledEnsemble.PostProcessing;

/// <summary>How raw scores and maps are rescaled.</summary>
public enum NormalizationMethod
{
    /// <summary>
    /// anomalib's min-max centred on the threshold: <c>clamp((x − threshold) / (max − min) + 0.5, 0, 1)</c>; the
    /// threshold maps to 0.5.
    /// </summary>
    MinMax,

    /// <summary>
    /// The quadra convention: <c>clamp(100 · (x − min) / (threshold − min), 0, 1000)</c>; the validation minimum
    /// maps to 0 and the threshold to 100.
    /// </summary>
    Quadra,
}
