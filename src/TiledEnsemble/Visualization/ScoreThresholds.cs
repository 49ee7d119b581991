namespace TiledEnsemble.Visualization;

/// <summary>
/// The thresholds on the scale of what a prediction reports (the post-processor's output: 0.5 for both after min-max
/// normalization, the raw thresholds without normalization), or null where there is no single value (thresholds per
/// tile position); <see cref="Normalized"/> when maps lie on the normalized scale.
/// </summary>
internal sealed record ScoreThresholds(double? Image, double? Pixel, bool Normalized)
{
    public string Describe(double? value) =>
        value is null ? "per tile" : value.Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
