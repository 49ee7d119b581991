using System;
using TiledEnsemble.Configuration;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble;

/// <summary>The builder's post-processing settings: normalization, thresholds, calibration, or a stage of one's
/// own.</summary>
public sealed partial class TiledEnsembleBuilder
{
    /// <summary>Where the default post-processor normalizes, and how.</summary>
    public TiledEnsembleBuilder WithNormalization(Stage stage, NormalizationMethod method = NormalizationMethod.MinMax)
    {
        _options.NormalizationStage = stage;
        _options.NormalizationMethod = method;
        return this;
    }

    /// <summary>How the default post-processor chooses thresholds and where they apply.</summary>
    public TiledEnsembleBuilder WithThresholding(ThresholdMethod method, Stage stage = Stage.Image)
    {
        _options.ThresholdMethod = method;
        _options.ThresholdingStage = stage;
        return this;
    }

    /// <summary>Manual thresholds (raw values, or fractions of the validation range when
    /// <paramref name="normalized"/>).</summary>
    public TiledEnsembleBuilder WithManualThresholds(double image, double pixel, bool normalized = false)
    {
        _options.ThresholdMethod = ThresholdMethod.Manual;
        _options.ManualImageThreshold = image;
        _options.ManualPixelThreshold = pixel;
        _options.ManualThresholdIsNormalized = normalized;
        return this;
    }

    /// <summary>
    /// Thresholds from good validation images alone: the image threshold rejects at most <paramref name="rate"/> of
    /// them by score, the pixel threshold at most that share by their map's maximum. Pair with a validation split of
    /// held-out good images (<c>ValSplitMode.FromTrain</c>).
    /// </summary>
    /// <param name="rate">The share of good parts that may be rejected, in [0, 1) (checked by
    /// <see cref="Build"/>).</param>
    /// <param name="stage">Where thresholds are learned and applied.</param>
    public TiledEnsembleBuilder WithFalseRejectRate(double rate, Stage stage = Stage.Image)
    {
        _options.ThresholdMethod = ThresholdMethod.FalseRejectRate;
        _options.FalseRejectRate = rate;
        _options.ThresholdingStage = stage;
        return this;
    }

    /// <summary>
    /// Standardizes each tile position's maps and tile scores by that position's good validation tiles before joining
    /// (see <see cref="PositionCalibration"/>), so that a peak is measured against its own position's normal variation.
    /// Pair with held-out good images (<c>ValSplitMode.FromTrain</c>), <see cref="WithFalseRejectRate"/> and an image
    /// score that keeps a single position's peak (docs/calibration.md).
    /// </summary>
    public TiledEnsembleBuilder WithCalibration(PositionCalibration calibration)
    {
        _options.Calibration = calibration;
        return this;
    }

    /// <summary>A post-processor of one's own instead of the default (normalization and thresholds).</summary>
    public TiledEnsembleBuilder WithPostProcessor(IPostProcessor postProcessor)
    {
        ArgumentNullException.ThrowIfNull(postProcessor);
        return WithPostProcessor(_ => postProcessor);
    }

    /// <summary>A post-processor of one's own, made from the validated settings.</summary>
    public TiledEnsembleBuilder WithPostProcessor(Func<EnsembleSettings, IPostProcessor> factory)
    {
        _postProcessor = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }
}
