using System;
using TiledEnsemble.Configuration;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.Patchcore;

namespace TiledEnsemble;

/// <summary>Builds the built-in models from ensemble settings.</summary>
internal static class ModelFactory
{
    public static string DefaultBackbone(ModelKind kind) => kind == ModelKind.Padim ? "resnet18" : "wide_resnet50_2";

    public static string[] DefaultLayers(ModelKind kind) => kind == ModelKind.Padim ? new[] { "layer1", "layer2", "layer3" } : new[] { "layer2", "layer3" };

    public static IAnomalyModel Create(ModelContext context)
    {
        var s = context.Settings;
        return s.Model switch
        {
            ModelKind.Padim => new PadimModel(context.Backbone, new PadimOptions { Backbone = s.Backbone, Layers = s.Layers, NFeatures = s.NFeatures, Seed = s.Seed }, context.Device),
            ModelKind.Patchcore => new PatchcoreModel(context.Backbone, new PatchcoreOptions { Backbone = s.Backbone, Layers = s.Layers, CoresetSamplingRatio = s.CoresetSamplingRatio, NumNeighbors = s.NumNeighbors, Seed = s.Seed }, context.Device),
            _ => throw new NotSupportedException($"Model {s.Model} is not implemented in this version; use Padim or Patchcore, or pass a model factory to WithModel."),
        };
    }
}
