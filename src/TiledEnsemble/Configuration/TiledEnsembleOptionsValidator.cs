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
public sealed class TiledEnsembleOptionsValidator : IValidateOptions<TiledEnsembleOptions>
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
            failures.Add($"ModelSettings.EarlyStoppingMonitor must be PixelAuroc or ImageAuroc; got {(int)monitor}.");
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

    /// <summary>A training device list: parseable names of one kind, each GPU once, without per-device
    /// parallelism.</summary>
    private static void ValidateDevices(TiledEnsembleOptions options, List<string> failures)
    {
        var devices = options.Devices ?? new List<string>();
        if (devices.Count == 0)
        {
            return;
        }

        var parsed = new List<TorchSharp.torch.Device>();
        foreach (var name in devices)
        {
            try
            {
                parsed.Add(DeviceNames.Parse(name));
            }
            catch (ArgumentException exception)
            {
                failures.Add($"Devices: {exception.Message}");
            }
        }

        if (parsed.Count != devices.Count)
        {
            return;
        }

        string list = string.Join(", ", devices);
        if (parsed.Select(d => d.type).Distinct().Count() > 1)
        {
            failures.Add(
                $"Devices must all be of one kind (all CPU or all CUDA): results are exact per kind, and a mixed "
                    + $"list would make positions differ by where they ran; got [{list}]."
            );
        }

        var repeated = parsed
            .Where(d => d.type != TorchSharp.DeviceType.CPU)
            .GroupBy(d => d.index)
            .Where(g => g.Count() > 1)
            .Select(g => $"cuda:{g.Key}")
            .ToList();
        if (repeated.Count > 0)
        {
            failures.Add(
                $"Devices lists {string.Join(", ", repeated)} more than once; list each GPU once (one model is "
                    + $"resident per device); got [{list}]."
            );
        }

        if (devices.Count > 1 && options.MaxDegreeOfParallelism > 1)
        {
            failures.Add(
                $"Devices [{list}] train one position per device at a time; MaxDegreeOfParallelism must then be 1, "
                    + $"got {options.MaxDegreeOfParallelism}. Use one or the other."
            );
        }

        // Device keeps its default ("cpu") when only Devices is set; any other value must be the first device.
        bool deviceSet = !string.Equals(options.Device?.Trim(), "cpu", StringComparison.OrdinalIgnoreCase);
        if (
            deviceSet
            && failures.Count == 0
            && DeviceNames.Name(DeviceNames.Parse(options.Device)) != DeviceNames.Name(parsed[0])
        )
        {
            failures.Add(
                $"Device '{options.Device}' differs from the first of Devices [{list}]; prediction runs on the first "
                    + $"device: set Device to it or leave it unset."
            );
        }
    }

    private static TiledEnsemble.Models.Backbones.BackboneKind? TryParseBackbone(string name)
    {
        try
        {
            return TiledEnsemble.Models.Backbones.BackboneNames.Parse(name);
        }
        catch (ArgumentException)
        {
            return null; // reported by the backbone-name rule
        }
    }

    /// <summary>Most tile positions accepted (a 128 × 128 grid): beyond, a run would hold more models than anyone
    /// trains.</summary>
    internal const int MaxPositions = 16384;

    /// <summary>
    /// Refuses sizes that cannot work before anything touches the disk: an image side beyond <c>MaxInputSide</c>, more
    /// than <see cref="MaxPositions"/> tile positions, or a batch of images at the image size larger than half the
    /// memory the process may use.
    /// </summary>
    private static void CheckScale(TiledEnsembleOptions options, List<string> failures)
    {
        if (
            options.ImageHeight <= 0
            || options.ImageWidth <= 0
            || options.StrideHeight <= 0
            || options.StrideWidth <= 0
            || options.TileHeight <= 0
            || options.TileWidth <= 0
        )
        {
            return; // reported as non-positive
        }

        if (options.ImageHeight > options.MaxInputSide || options.ImageWidth > options.MaxInputSide)
        {
            failures.Add(
                $"ImageSize {options.ImageHeight}x{options.ImageWidth} is beyond MaxInputSide "
                    + $"{options.MaxInputSide}; choose a smaller image size (tiles keep the detail) or raise "
                    + $"MaxInputSide."
            );
        }

        long rows = Math.Max(
            1,
            (long)Math.Ceiling((double)(options.ImageHeight - options.TileHeight) / options.StrideHeight) + 1
        );
        long columns = Math.Max(
            1,
            (long)Math.Ceiling((double)(options.ImageWidth - options.TileWidth) / options.StrideWidth) + 1
        );
        if (rows * columns > MaxPositions)
        {
            failures.Add(
                $"The tiling gives {rows}x{columns} = {rows * columns:N0} tile positions (one model each), more than "
                    + $"{MaxPositions:N0}; use larger tiles, a larger stride or a smaller image size."
            );
        }

        long batchBytes =
            (long)Math.Max(options.TrainBatchSize, options.EvalBatchSize)
            * 3
            * options.ImageHeight
            * options.ImageWidth
            * sizeof(float);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (options.TrainBatchSize > 0 && options.EvalBatchSize > 0 && available > 0 && batchBytes > available / 2)
        {
            failures.Add(
                $"A batch of {Math.Max(options.TrainBatchSize, options.EvalBatchSize)} images at "
                    + $"{options.ImageHeight}x{options.ImageWidth} needs {batchBytes / (1 << 20):N0} MiB, more than "
                    + $"half of the {available / (1 << 20):N0} MiB this process may use; lower the batch size or "
                    + $"the image size."
            );
        }
    }
}
