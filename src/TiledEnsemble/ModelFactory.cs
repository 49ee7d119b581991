using System;
using System.Collections.Generic;
using System.Globalization;
using TiledEnsemble.Configuration;
using TiledEnsemble.Models;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Stfpm;

namespace TiledEnsemble;

/// <summary>
/// Builds the built-in models from ensemble settings. A setting left unset (null) takes the default of the model's
/// options record, the one place each default is written.
/// </summary>
internal static class ModelFactory
{
    /// <summary>
    /// ResNet-18 for every model: the one backbone with ImageNet weights here (anomalib defaults Patchcore and Reverse
    /// Distillation to Wide-ResNet-50-2, which needs a weights file given by the user).
    /// </summary>
    public static string DefaultBackbone(ModelKind? kind) => "resnet18";

    /// <summary>anomalib's default layers of each model (layer1–layer3 for a model of the caller's).</summary>
    public static string[] DefaultLayers(ModelKind? kind) =>
        kind == ModelKind.Patchcore ? new[] { "layer2", "layer3" } : new[] { "layer1", "layer2", "layer3" };

    public static IAnomalyModel Create(ModelContext context)
    {
        var s = context.Settings;
        return s.Model switch
        {
            ModelKind.Padim => new PadimModel(context.Backbone, PadimOptions(s), context.Device),
            ModelKind.Patchcore => new PatchcoreModel(context.Backbone, PatchcoreOptions(s), context.Device),
            ModelKind.FastFlow => new FastflowModel(context.Backbone, FastflowOptions(s), context.Device),
            ModelKind.Stfpm => new StfpmModel(
                context.Backbone,
                new StfpmOptions
                {
                    Backbone = s.Backbone,
                    Layers = s.Layers,
                    Training = s.Training,
                },
                context.Device
            ),
            ModelKind.ReverseDistillation => new ReverseDistillationModel(
                context.Backbone,
                ReverseDistillationOptions(s),
                context.Device
            ),
            _ => throw new NotSupportedException(
                $"The settings name no built-in model ({s.Model?.ToString() ?? "none"}); use one of "
                    + $"{string.Join(", ", Enum.GetNames<ModelKind>())}, or give the model's factory "
                    + $"(WithModel(name, factory))."
            ),
        };
    }

    /// <summary>The settings of a built-in model that its identity records.</summary>
    public static IReadOnlyDictionary<string, string> Describe(EnsembleSettings s)
    {
        var culture = CultureInfo.InvariantCulture;
        var settings = new Dictionary<string, string>
        {
            ["backbone"] = s.Backbone,
            ["layers"] = string.Join(",", s.Layers),
            ["seed"] = s.Seed.ToString(culture),
        };
        switch (s.Model)
        {
            case ModelKind.Padim:
                var padim = PadimOptions(s);
                settings["n_features"] = padim.EffectiveFeatures.ToString(culture);
                settings["blur_sigma"] = StageIdentity.Format(padim.BlurSigma);
                break;
            case ModelKind.Patchcore:
                var patchcore = PatchcoreOptions(s);
                settings["coreset_sampling_ratio"] = StageIdentity.Format(patchcore.CoresetSamplingRatio);
                settings["num_neighbors"] = patchcore.NumNeighbors.ToString(culture);
                settings["projection_dimension"] = patchcore.ProjectionDimension?.ToString(culture) ?? "default";
                settings["blur_sigma"] = StageIdentity.Format(patchcore.BlurSigma);
                break;
            case ModelKind.FastFlow:
                var fastflow = FastflowOptions(s);
                settings["flow_steps"] = fastflow.FlowSteps.ToString(culture);
                settings["hidden_ratio"] = StageIdentity.Format(fastflow.HiddenRatio);
                settings["conv3x3_only"] = fastflow.Conv3x3Only ? "true" : "false";
                settings["training"] = s.Training.ToString();
                break;
            case ModelKind.Stfpm:
                settings["training"] = s.Training.ToString();
                break;
            case ModelKind.ReverseDistillation:
                var rd = ReverseDistillationOptions(s);
                settings["anomaly_map_mode"] = rd.MapMode.ToString();
                settings["blur_sigma"] = StageIdentity.Format(rd.BlurSigma);
                settings["training"] = s.Training.ToString();
                break;
        }

        return settings;
    }

    private static PadimOptions PadimOptions(EnsembleSettings s)
    {
        var options = new PadimOptions
        {
            Backbone = s.Backbone,
            Layers = s.Layers,
            NFeatures = s.NFeatures,
            Seed = s.Seed,
        };
        return options with { BlurSigma = s.BlurSigma ?? options.BlurSigma };
    }

    private static PatchcoreOptions PatchcoreOptions(EnsembleSettings s)
    {
        var options = new PatchcoreOptions
        {
            Backbone = s.Backbone,
            Layers = s.Layers,
            CoresetSamplingRatio = s.CoresetSamplingRatio,
            NumNeighbors = s.NumNeighbors,
            ProjectionDimension = s.ProjectionDimension,
            Seed = s.Seed,
        };
        return options with
        {
            BlurSigma = s.BlurSigma ?? options.BlurSigma,
            DistanceChunkSize = s.DistanceChunkSize ?? options.DistanceChunkSize,
        };
    }

    private static FastflowOptions FastflowOptions(EnsembleSettings s)
    {
        var options = new FastflowOptions
        {
            InputSize = s.TileSize,
            Backbone = s.Backbone,
            Layers = s.Layers,
            FlowSteps = s.FlowSteps,
            Training = s.Training,
        };
        return options with
        {
            HiddenRatio = s.HiddenRatio ?? options.HiddenRatio,
            Conv3x3Only = s.Conv3x3Only ?? options.Conv3x3Only,
        };
    }

    private static ReverseDistillationOptions ReverseDistillationOptions(EnsembleSettings s)
    {
        var options = new ReverseDistillationOptions
        {
            Backbone = s.Backbone,
            Layers = s.Layers,
            Training = s.Training,
        };
        return options with { BlurSigma = s.BlurSigma ?? options.BlurSigma, MapMode = s.MapMode ?? options.MapMode };
    }
}
