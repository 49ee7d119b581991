using System;

namespace TiledEnsemble.PostProcessing;

/// <summary>User-given thresholds.</summary>
/// <param name="Image">Threshold for image scores.</param>
/// <param name="Pixel">Threshold for anomaly-map pixels.</param>
/// <param name="IsNormalized">
/// False: raw model units. True: a fraction in [0, 1] of the way from the validation minimum to the validation maximum
/// (0.5 is half-way), which does not depend on the model's units.
/// </param>
public sealed record ManualThreshold(double Image, double Pixel, bool IsNormalized = false)
{
    /// <summary>Throws when a value is not finite, or not in [0, 1] for normalized thresholds.</summary>
    public void Validate()
    {
        foreach (var (name, value) in new[] { (nameof(Image), Image), (nameof(Pixel), Pixel) })
        {
            if (!double.IsFinite(value) || (IsNormalized && (value < 0 || value > 1)))
            {
                throw new ArgumentOutOfRangeException(
                    name,
                    value,
                    IsNormalized
                        ? "A normalized manual threshold must be in [0, 1]."
                        : "A manual threshold must be finite."
                );
            }
        }
    }

    /// <summary>The raw threshold for a value range.</summary>
    internal double ToRaw(double value, double min, double max) => IsNormalized ? min + (value * (max - min)) : value;
}
