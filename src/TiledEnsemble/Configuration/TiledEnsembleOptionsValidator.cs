using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Options;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Configuration;

/// <summary>Validates <see cref="TiledEnsembleOptions"/>; every failure names the setting, the allowed values and what
/// was given.</summary>
public sealed partial class TiledEnsembleOptionsValidator : IValidateOptions<TiledEnsembleOptions>
{
    /// <summary>The models this version implements.</summary>
    public static readonly IReadOnlyList<ModelKind> ImplementedModels = Enum.GetValues<ModelKind>();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TiledEnsembleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Positive(string setting, int value)
        {
            if (value <= 0)
            {
                failures.Add($"{setting} must be positive; got {value}.");
            }
        }

        Positive(nameof(options.ImageHeight), options.ImageHeight);
        Positive(nameof(options.ImageWidth), options.ImageWidth);
        Positive(nameof(options.TileHeight), options.TileHeight);
        Positive(nameof(options.TileWidth), options.TileWidth);
        Positive(nameof(options.StrideHeight), options.StrideHeight);
        Positive(nameof(options.StrideWidth), options.StrideWidth);
        Positive(nameof(options.TrainBatchSize), options.TrainBatchSize);
        Positive(nameof(options.EvalBatchSize), options.EvalBatchSize);
        Positive(nameof(options.MaxDegreeOfParallelism), options.MaxDegreeOfParallelism);
        Positive(nameof(options.MaxInputSide), options.MaxInputSide);
        if (options.MaxInputPixels <= 0)
        {
            failures.Add($"MaxInputPixels must be positive; got {options.MaxInputPixels}.");
        }
        Positive(nameof(options.ImageScoreTopK), options.ImageScoreTopK);
        if (!Enum.IsDefined(options.ImageScore))
        {
            failures.Add(
                $"ImageScore must be one of "
                    + $"{string.Join(", ", Enum.GetNames<TiledEnsemble.Joining.ImageScoreAggregation>())}; got "
                    + $"{(int)options.ImageScore}."
            );
        }
        if (options.StrideHeight > options.TileHeight || options.StrideWidth > options.TileWidth)
        {
            failures.Add(
                $"Stride ({options.StrideHeight}x{options.StrideWidth}) must not exceed the tile "
                    + $"({options.TileHeight}x{options.TileWidth}): pixels between tiles would belong to no tile."
            );
        }

        if (options.TileHeight > options.ImageHeight || options.TileWidth > options.ImageWidth)
        {
            failures.Add(
                $"The tile ({options.TileHeight}x{options.TileWidth}) must fit in the image "
                    + $"({options.ImageHeight}x{options.ImageWidth})."
            );
        }

        CheckScale(options, failures);

        if (!Enum.IsDefined(options.Model))
        {
            failures.Add(
                $"Model must be one of {string.Join(", ", Enum.GetNames<ModelKind>())}; got {(int)options.Model}."
            );
        }
        else if (!ImplementedModels.Contains(options.Model))
        {
            failures.Add(
                $"Model {options.Model} is not implemented in this version; use one of "
                    + $"{string.Join(", ", ImplementedModels)}."
            );
        }

        if (options.ModelSettings?.Backbone is { } backbone)
        {
            try
            {
                BackboneNames.Parse(backbone);
            }
            catch (ArgumentException exception)
            {
                failures.Add($"ModelSettings.Backbone: {exception.Message}");
            }
        }

        foreach (var layer in options.ModelSettings?.Layers ?? new List<string>())
        {
            if (layer is not ("layer1" or "layer2" or "layer3" or "layer4"))
            {
                failures.Add(
                    $"ModelSettings.Layers: '{layer}' is not a layer; expected layer1, layer2, layer3 or layer4."
                );
            }
        }

        if (options.ModelSettings?.CoresetSamplingRatio is { } ratio && !(ratio > 0 && ratio <= 1))
        {
            failures.Add($"ModelSettings.CoresetSamplingRatio must be in (0, 1]; got {ratio}.");
        }

        var m = options.ModelSettings;
        if (m?.MaxEpochs is <= 0)
        {
            failures.Add($"ModelSettings.MaxEpochs must be at least 1; got {m.MaxEpochs}.");
        }

        if (m?.EarlyStoppingPatience is < 0)
        {
            failures.Add(
                $"ModelSettings.EarlyStoppingPatience must be 0 (off) or more; got {m.EarlyStoppingPatience}."
            );
        }

        if (m?.ValidationInterval is <= 0)
        {
            failures.Add($"ModelSettings.ValidationInterval must be at least 1; got {m.ValidationInterval}.");
        }

        if (m?.LearningRate is { } rate && !(rate > 0 && double.IsFinite(rate)))
        {
            failures.Add($"ModelSettings.LearningRate must be a positive finite number; got {rate}.");
        }

        if (m?.FlowSteps is <= 0)
        {
            failures.Add($"ModelSettings.FlowSteps must be at least 1; got {m.FlowSteps}.");
        }

        if (m?.BlurSigma is { } blur && !(blur > 0 && double.IsFinite(blur)))
        {
            failures.Add($"ModelSettings.BlurSigma must be a positive number of pixels; got {blur}.");
        }

        if (m?.HiddenRatio is { } hidden && !(hidden > 0 && double.IsFinite(hidden)))
        {
            failures.Add($"ModelSettings.HiddenRatio must be a positive number; got {hidden}.");
        }

        if (m?.ProjectionDimension is <= 0)
        {
            failures.Add($"ModelSettings.ProjectionDimension must be at least 1; got {m.ProjectionDimension}.");
        }

        if (m?.DistanceChunkSize is <= 0)
        {
            failures.Add($"ModelSettings.DistanceChunkSize must be at least 1; got {m.DistanceChunkSize}.");
        }

        if (m?.MapMode is { } mode && !Enum.IsDefined(mode))
        {
            failures.Add($"ModelSettings.MapMode must be Add or Multiply; got {(int)mode}.");
        }

        if (m?.EarlyStoppingMonitor is { } monitor && !Enum.IsDefined(monitor))
        {
            failures.Add(
                "ModelSettings.EarlyStoppingMonitor must be PixelAuroc, ImageAuroc or GoodImageLoss; got "
                    + $"{(int)monitor}."
            );
        }

        if (
            options.Model == ModelKind.ReverseDistillation
            && m?.Layers is { Count: > 0 } rdLayers
            && !rdLayers.SequenceEqual(new[] { "layer1", "layer2", "layer3" })
        )
        {
            failures.Add(
                $"ModelSettings.Layers: Reverse Distillation fuses layer1, layer2 and layer3; got "
                    + $"[{string.Join(", ", rdLayers)}]."
            );
        }

        if (options.ModelSettings?.BackboneWeights is { } weights && !System.IO.File.Exists(weights))
        {
            failures.Add($"ModelSettings.BackboneWeights: the file '{weights}' does not exist.");
        }

        if (
            options.ModelSettings?.BackboneWeights is null
            && options.ModelSettings?.PreTrained != false
            && TryParseBackbone(m?.Backbone ?? ModelFactory.DefaultBackbone(options.Model)) is { } pretrainedKind
        )
        {
            if (TiledEnsemble.Models.Pretrained.PretrainedBackbones.Find(pretrainedKind) is null)
            {
                try
                {
                    TiledEnsemble.Models.Pretrained.PretrainedBackbones.Require(pretrainedKind);
                }
                catch (System.IO.FileNotFoundException missing)
                {
                    failures.Add($"ModelSettings.PreTrained: {missing.Message}");
                }
            }
            else if (m?.Layers?.Contains("layer4") == true)
            {
                failures.Add(
                    "ModelSettings.Layers: the pretrained ResNet-18 of TiledEnsemble.Pretrained goes up to layer3 "
                        + "(its source's layer4 differs from torchvision's); choose layers among layer1..layer3 or "
                        + "give a weights file."
                );
            }
        }

        if (options.NormalizationStage == Stage.Image && options.ThresholdingStage == Stage.Tile)
        {
            failures.Add(
                "ThresholdingStage Tile needs NormalizationStage Tile or None: tile thresholds cannot be applied "
                    + "after image-level normalization."
            );
        }

        if (options.ThresholdingStage == Stage.None)
        {
            failures.Add("ThresholdingStage must be Tile or Image.");
        }

        if (!Enum.IsDefined(options.Calibration))
        {
            failures.Add($"Calibration must be None, PerPosition or PerPixel; got {(int)options.Calibration}.");
        }
        else if (
            options.Calibration != PositionCalibration.None
            && (options.NormalizationStage == Stage.Tile || options.ThresholdingStage != Stage.Image)
        )
        {
            failures.Add(
                $"Calibration {options.Calibration} standardizes each position's maps before joining: it needs "
                    + $"ThresholdingStage Image and NormalizationStage Image or None; got {options.NormalizationStage} "
                    + $"and {options.ThresholdingStage}."
            );
        }

        if (!(options.FalseRejectRate >= 0 && options.FalseRejectRate < 1))
        {
            failures.Add(
                $"FalseRejectRate is the share of good parts that may be rejected, in [0, 1); got "
                    + $"{options.FalseRejectRate}."
            );
        }

        if (options.ThresholdMethod == ThresholdMethod.Manual)
        {
            if (options.ManualImageThreshold is null || options.ManualPixelThreshold is null)
            {
                failures.Add("ThresholdMethod Manual needs ManualImageThreshold and ManualPixelThreshold.");
            }
            else
            {
                try
                {
                    new ManualThreshold(
                        options.ManualImageThreshold.Value,
                        options.ManualPixelThreshold.Value,
                        options.ManualThresholdIsNormalized
                    ).Validate();
                }
                catch (ArgumentOutOfRangeException exception)
                {
                    failures.Add($"Manual threshold: {exception.Message}");
                }
            }
        }

        var seams = options.SeamSmoothing ?? new SeamSmoothingSettings();
        if (seams.Apply && (!(seams.Sigma > 0) || !(seams.Width > 0 && seams.Width <= 1)))
        {
            failures.Add(
                $"SeamSmoothing needs Sigma > 0 and Width in (0, 1]; got Sigma {seams.Sigma}, Width {seams.Width}."
            );
        }

        try
        {
            DeviceNames.Parse(options.Device);
        }
        catch (ArgumentException exception)
        {
            failures.Add(exception.Message);
        }

        ValidateDevices(options, failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
