using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// The default <see cref="IPostProcessor"/>: statistics of the validation predictions (score and map ranges,
/// F1-adaptive or manual thresholds) at the tile stage, the image stage or both, applied by
/// <see cref="CalibratedPostProcessor"/> with anomalib's min-max normalization or quadra's.
/// </summary>
public sealed class PostProcessor : IPostProcessor
{
    /// <summary>The name runs record for this post-processor.</summary>
    public const string StageName = "post_processor";

    private readonly ILogger? _logger;

    /// <summary>Creates the default post-processor.</summary>
    /// <param name="normalizationStage">Where normalization happens: tile, image or none.</param>
    /// <param name="normalizationMethod">The normalization formula.</param>
    /// <param name="thresholdingStage">Where thresholds are learned and applied: tile or image.</param>
    /// <param name="thresholdMethod">F1-adaptive, manual or by false-reject rate.</param>
    /// <param name="manualThreshold">The thresholds of <see cref="ThresholdMethod.Manual"/>.</param>
    /// <param name="logger">Receives the warnings of thresholds that fall back (no anomalous or normal sample).</param>
    /// <param name="falseRejectRate">The share of good validation images the thresholds of
    /// <see cref="ThresholdMethod.FalseRejectRate"/> may reject, in [0, 1).</param>
    /// <param name="calibration">How each position's maps are standardized before joining (see
    /// <see cref="PositionCalibration"/>); anything but None needs thresholds at the image stage and no normalization
    /// at the tile stage.</param>
    /// <exception cref="ArgumentException">A combination that cannot work; the message names it.</exception>
    public PostProcessor(
        Stage normalizationStage = Stage.Image,
        NormalizationMethod normalizationMethod = NormalizationMethod.MinMax,
        Stage thresholdingStage = Stage.Image,
        ThresholdMethod thresholdMethod = ThresholdMethod.F1Adaptive,
        ManualThreshold? manualThreshold = null,
        ILogger? logger = null,
        double falseRejectRate = FalseRejectThreshold.DefaultRate,
        PositionCalibration calibration = PositionCalibration.None
    )
    {
        if (
            !Enum.IsDefined(normalizationStage)
            || !Enum.IsDefined(normalizationMethod)
            || !Enum.IsDefined(thresholdMethod)
            || !Enum.IsDefined(calibration)
        )
        {
            throw new ArgumentException(
                $"Unknown normalization stage ({(int)normalizationStage}), normalization method "
                    + $"({(int)normalizationMethod}), threshold method ({(int)thresholdMethod}) or calibration "
                    + $"({(int)calibration})."
            );
        }

        if (thresholdingStage is not (Stage.Tile or Stage.Image))
        {
            throw new ArgumentException(
                $"thresholdingStage must be Tile or Image; got {thresholdingStage}.",
                nameof(thresholdingStage)
            );
        }

        if (normalizationStage == Stage.Image && thresholdingStage == Stage.Tile)
        {
            throw new ArgumentException(
                "Thresholding at the tile stage needs normalization at the tile stage or none: tile thresholds "
                    + "cannot be "
                    + "applied after image-level normalization.",
                nameof(thresholdingStage)
            );
        }

        if ((thresholdMethod == ThresholdMethod.Manual) != (manualThreshold is not null))
        {
            throw new ArgumentException(
                "ThresholdMethod.Manual and a manual threshold go together: give both or neither.",
                nameof(manualThreshold)
            );
        }

        if (
            calibration != PositionCalibration.None
            && (normalizationStage == Stage.Tile || thresholdingStage != Stage.Image)
        )
        {
            throw new ArgumentException(
                $"Calibration {calibration} standardizes each position's maps before joining: it needs thresholds at "
                    + $"the image stage and no normalization at the tile stage; got normalization "
                    + $"{normalizationStage}, "
                    + $"thresholding {thresholdingStage}.",
                nameof(calibration)
            );
        }

        manualThreshold?.Validate();
        Calibration = calibration;
        FalseRejectThreshold.Validate(falseRejectRate, nameof(falseRejectRate));
        FalseRejectRate = falseRejectRate;
        NormalizationStage = normalizationStage;
        NormalizationMethod = normalizationMethod;
        ThresholdingStage = thresholdingStage;
        ThresholdMethod = thresholdMethod;
        ManualThreshold = manualThreshold;
        _logger = logger;
    }

    /// <summary>Where normalization happens.</summary>
    public Stage NormalizationStage { get; }

    /// <summary>The normalization formula.</summary>
    public NormalizationMethod NormalizationMethod { get; }

    /// <summary>Where thresholds are learned and applied.</summary>
    public Stage ThresholdingStage { get; }

    /// <summary>How thresholds are chosen.</summary>
    public ThresholdMethod ThresholdMethod { get; }

    /// <summary>The manual thresholds, with <see cref="ThresholdMethod.Manual"/>.</summary>
    public ManualThreshold? ManualThreshold { get; }

    /// <summary>The share of good validation images that <see cref="ThresholdMethod.FalseRejectRate"/> thresholds may
    /// reject.</summary>
    public double FalseRejectRate { get; }

    /// <summary>How each position's maps are standardized before joining.</summary>
    public PositionCalibration Calibration { get; }

    /// <inheritdoc />
    public bool ProcessesPositions =>
        NormalizationStage == Stage.Tile || ThresholdingStage == Stage.Tile || Calibration != PositionCalibration.None;

    /// <inheritdoc />
    public bool ProcessesImages => NormalizationStage == Stage.Image || ThresholdingStage == Stage.Image;

    /// <inheritdoc />
    public StageIdentity Identity
    {
        get
        {
            var settings = new Dictionary<string, string>
            {
                ["normalization_stage"] = NormalizationStage.ToString(),
                ["normalization_method"] = NormalizationMethod.ToString(),
                ["thresholding_stage"] = ThresholdingStage.ToString(),
                ["threshold_method"] = ThresholdMethod.ToString(),
            };
            if (ManualThreshold is { } manual)
            {
                settings["manual_image"] = StageIdentity.Format(manual.Image);
                settings["manual_pixel"] = StageIdentity.Format(manual.Pixel);
                settings["manual_normalized"] = manual.IsNormalized ? "true" : "false";
            }

            if (ThresholdMethod == ThresholdMethod.FalseRejectRate)
            {
                settings["false_reject_rate"] = StageIdentity.Format(FalseRejectRate);
            }

            // Recorded only when set, so that runs made without calibration keep the identity they always had.
            if (Calibration != PositionCalibration.None)
            {
                settings["calibration"] = Calibration.ToString();
            }

            return new StageIdentity(StageName, settings);
        }
    }

    /// <inheritdoc />
    public IFittedPostProcessor Calibrate(
        PostProcessingLevel level,
        IEnumerable<CalibrationBatch> validation,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(validation);
        if (level == PostProcessingLevel.Position && Calibration != PositionCalibration.None)
        {
            var standardizer = new StandardizerCollector(Calibration);
            foreach (var batch in validation)
            {
                cancellationToken.ThrowIfCancellationRequested();
                standardizer.Update(batch.Maps, batch.Labels);
            }

            return standardizer.Build();
        }

        var collector = new StatisticsCollector(_logger);
        foreach (var batch in validation)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            collector.Update(batch.Scores, batch.Labels, batch.Maps, batch.Masks);
        }

        return Fitted(level, collector.Build(ThresholdMethod, ManualThreshold, FalseRejectRate));
    }

    /// <inheritdoc />
    public IFittedPostProcessor Restore(PostProcessingLevel level, string state) =>
        level == PostProcessingLevel.Position && Calibration != PositionCalibration.None
            ? PositionStandardizer.FromJson(
                state ?? throw new FormatException("The position calibration state is missing."),
                Calibration
            )
            : Fitted(
                level,
                PostProcessingStatistics.FromJson(
                    state ?? throw new FormatException("The post-processing state is missing.")
                )
            );

    private CalibratedPostProcessor Fitted(PostProcessingLevel level, PostProcessingStatistics statistics)
    {
        var stage = level == PostProcessingLevel.Position ? Stage.Tile : Stage.Image;
        return new CalibratedPostProcessor(
            statistics,
            NormalizationMethod,
            NormalizationStage == stage,
            ThresholdingStage == stage
        );
    }
}
