using System;
using System.Linq;
using Microsoft.Extensions.Options;
using TiledEnsemble.Joining;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.Training;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Configuration;

/// <summary>
/// Validates <see cref="TiledEnsembleOptions"/> and freezes them into <see cref="EnsembleSettings"/>. Settings left
/// unset take the default of the record that owns them (a model's options, <see cref="TrainingOptions"/>,
/// <see cref="SeamSmoother"/>), the one place each default is written.
/// </summary>
internal static class SettingsFreezer
{
    private static readonly PatchcoreOptions PatchcoreDefaults = new();
    private static readonly TrainingOptions TrainingDefaults = new();

    /// <param name="options">The options.</param>
    /// <param name="customModel">Whether the model is of the caller's (the settings then name no built-in
    /// model).</param>
    /// <exception cref="OptionsValidationException">Invalid settings; every failure is listed.</exception>
    public static EnsembleSettings Freeze(TiledEnsembleOptions options, bool customModel = false)
    {
        var result = new TiledEnsembleOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(
                nameof(TiledEnsembleOptions),
                typeof(TiledEnsembleOptions),
                result.Failures
            );
        }

        var model = options.ModelSettings ?? new ModelSettings();
        var kind = customModel ? (Models.ModelKind?)null : options.Model;
        var seams = options.SeamSmoothing ?? new SeamSmoothingSettings();
        return new EnsembleSettings
        {
            ImageSize = new Size2D(options.ImageHeight, options.ImageWidth),
            TileSize = new Size2D(options.TileHeight, options.TileWidth),
            Stride = new Size2D(options.StrideHeight, options.StrideWidth),
            Model = kind,
            Backbone = model.Backbone ?? ModelFactory.DefaultBackbone(kind),
            BackboneWeights = model.BackboneWeights,
            PreTrained = model.PreTrained ?? true,
            Layers = model.Layers is { Count: > 0 } layers ? layers.ToArray() : ModelFactory.DefaultLayers(kind),
            NFeatures = model.NFeatures,
            CoresetSamplingRatio = model.CoresetSamplingRatio ?? PatchcoreDefaults.CoresetSamplingRatio,
            NumNeighbors = model.NumNeighbors ?? PatchcoreDefaults.NumNeighbors,
            ProjectionDimension = model.ProjectionDimension,
            DistanceChunkSize = model.DistanceChunkSize,
            BlurSigma = model.BlurSigma,
            HiddenRatio = model.HiddenRatio,
            Conv3x3Only = model.Conv3x3Only,
            MapMode = model.MapMode,
            NormalizationStage = options.NormalizationStage,
            NormalizationMethod = options.NormalizationMethod,
            ThresholdMethod = options.ThresholdMethod,
            ThresholdingStage = options.ThresholdingStage,
            ManualThreshold =
                options.ThresholdMethod == ThresholdMethod.Manual
                    ? new ManualThreshold(
                        options.ManualImageThreshold!.Value,
                        options.ManualPixelThreshold!.Value,
                        options.ManualThresholdIsNormalized
                    )
                    : null,
            FalseRejectRate = options.FalseRejectRate,
            Calibration = options.Calibration,
            ImageScore = options.ImageScore,
            ImageScoreTopK = options.ImageScoreTopK,
            SeamSmoothing = seams.Apply,
            SeamSigma = seams.Sigma,
            SeamWidth = seams.Width,
            Device = options.Devices is { Count: > 0 } devices ? devices[0] : options.Device,
            TrainingDevices = options.Devices is { Count: > 1 } several ? several.ToArray() : Array.Empty<string>(),
            Seed = options.Seed,
            TrainBatchSize = options.TrainBatchSize,
            EvalBatchSize = options.EvalBatchSize,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
            KeepModelsResident = options.KeepModelsResident,
            MaxInputSide = options.MaxInputSide,
            MaxInputPixels = options.MaxInputPixels,
            Training = new TrainingOptions
            {
                MaxEpochs = model.MaxEpochs ?? TrainingDefaults.MaxEpochs,
                Patience = model.EarlyStoppingPatience is 0
                    ? null
                    : model.EarlyStoppingPatience ?? TrainingDefaults.Patience,
                Monitor = model.EarlyStoppingMonitor ?? TrainingDefaults.Monitor,
                ValidationInterval = model.ValidationInterval ?? TrainingDefaults.ValidationInterval,
                LearningRate = model.LearningRate,
                Seed = options.Seed,
            },
            FlowSteps = model.FlowSteps ?? Models.FastFlow.FastflowOptions.DefaultFlowSteps,
        };
    }
}
