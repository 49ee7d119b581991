using System;
using TiledEnsemble.Configuration;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Stfpm;

namespace TiledEnsemble;

/// <summary>Builds the built-in models from ensemble settings.</summary>
internal static class ModelFactory
{
    /// <summary>
    /// ResNet-18 for every model: the one backbone with ImageNet weights here (anomalib defaults Patchcore and Reverse
    /// Distillation to Wide-ResNet-50-2, which needs a weights file given by the user).
    /// </summary>
    public static string DefaultBackbone(ModelKind kind) => "resnet18";

    /// <summary>anomalib's default layers of each model.</summary>
    public static string[] DefaultLayers(ModelKind kind) => kind == ModelKind.Patchcore ? new[] { "layer2", "layer3" } : new[] { "layer1", "layer2", "layer3" };

    public static IAnomalyModel Create(ModelContext context)
    {
        var s = context.Settings;
        return s.Model switch
        {
            ModelKind.Padim => new PadimModel(context.Backbone, new PadimOptions { Backbone = s.Backbone, Layers = s.Layers, NFeatures = s.NFeatures, Seed = s.Seed }, context.Device),
            ModelKind.Patchcore => new PatchcoreModel(context.Backbone, new PatchcoreOptions { Backbone = s.Backbone, Layers = s.Layers, CoresetSamplingRatio = s.CoresetSamplingRatio, NumNeighbors = s.NumNeighbors, Seed = s.Seed }, context.Device),
            ModelKind.FastFlow => new FastflowModel(context.Backbone, new FastflowOptions { InputSize = s.TileSize, Backbone = s.Backbone, Layers = s.Layers, FlowSteps = s.FlowSteps, Training = s.Training }, context.Device),
            ModelKind.Stfpm => new StfpmModel(context.Backbone, new StfpmOptions { Backbone = s.Backbone, Layers = s.Layers, Training = s.Training }, context.Device),
            ModelKind.ReverseDistillation => new ReverseDistillationModel(context.Backbone, new ReverseDistillationOptions { Backbone = s.Backbone, Layers = s.Layers, Training = s.Training }, context.Device),
            _ => throw new NotSupportedException($"Model {s.Model} is not a known model; use one of {string.Join(", ", Enum.GetNames<ModelKind>())}, or pass a model factory to WithModel."),
        };
    }
}
