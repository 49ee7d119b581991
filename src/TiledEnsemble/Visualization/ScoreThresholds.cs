using TiledEnsemble.Configuration;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Visualization;

/// <summary>
/// The thresholds on the scale of what a prediction reports: after normalization both sit at the normalized threshold
/// (0.5 for min-max), the image threshold applying to scores and the pixel threshold to maps; without normalization they
/// are the raw image-stage thresholds, and with tile-stage thresholds there is no single value (null).
/// </summary>
internal sealed record ScoreThresholds(double? Image, double? Pixel, bool Normalized)
{
    public static ScoreThresholds Of(EnsembleSettings settings, PostProcessingStatistics? imageStatistics)
    {
        if (settings.NormalizationStage != Stage.None)
        {
            double normalized = PostProcessor.NormalizedThresholdOf(settings.NormalizationMethod);
            return new ScoreThresholds(normalized, normalized, Normalized: true);
        }

        return settings.ThresholdingStage == Stage.Image && imageStatistics is not null
            ? new ScoreThresholds(imageStatistics.ImageThreshold, imageStatistics.PixelThreshold, Normalized: false)
            : new ScoreThresholds(null, null, Normalized: false);
    }

    public string Describe(double? value) => value is null ? "per tile" : value.Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
