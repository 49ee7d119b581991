using System;

namespace TiledEnsemble.Models.Backbones;

/// <summary>The backbones available, by their torchvision/timm names.</summary>
public enum BackboneKind
{
    /// <summary>ResNet-18 ("resnet18"): layer channels 64, 128, 256, 512.</summary>
    ResNet18,

    /// <summary>Wide-ResNet-50-2 ("wide_resnet50_2"): layer channels 256, 512, 1024, 2048.</summary>
    WideResNet50,
}

/// <summary>Names and shapes of the backbones.</summary>
public static class BackboneNames
{
    /// <summary>Parses "resnet18" or "wide_resnet50_2" (also with a timm tag such as "resnet18.a1_in1k").</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static BackboneKind Parse(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var bare = name.Split('.')[0].Trim().ToLowerInvariant();
        return bare switch
        {
            "resnet18" => BackboneKind.ResNet18,
            "wide_resnet50_2" or "wide_resnet50" or "wrn50" => BackboneKind.WideResNet50,
            _ => throw new ArgumentException(
                $"Unknown backbone '{name}'; expected 'resnet18' or 'wide_resnet50_2'.",
                nameof(name)
            ),
        };
    }

    /// <summary>Throws unless the backbone named in a model's options is the backbone the model was given.</summary>
    internal static void EnsureMatches(string optionsName, string configured, ResNet given)
    {
        if (Parse(configured) != given.Kind)
        {
            throw new ArgumentException(
                $"{optionsName}.Backbone is '{configured}' but the backbone given is {Name(given.Kind)}.",
                "backbone"
            );
        }
    }

    /// <summary>The canonical name.</summary>
    public static string Name(BackboneKind kind) => kind == BackboneKind.ResNet18 ? "resnet18" : "wide_resnet50_2";

    /// <summary>Output channels of layer1..layer4.</summary>
    public static int Channels(BackboneKind kind, string layer)
    {
        int index = LayerIndex(layer);
        int basic = 64 << (index - 1);
        return kind == BackboneKind.ResNet18 ? basic : basic * 4;
    }

    /// <summary>Spatial stride of layer1..layer4 relative to the input (4, 8, 16, 32).</summary>
    public static int Stride(string layer) => 2 << LayerIndex(layer);

    /// <summary>1..4 for "layer1".."layer4".</summary>
    public static int LayerIndex(string layer) =>
        layer switch
        {
            "layer1" => 1,
            "layer2" => 2,
            "layer3" => 3,
            "layer4" => 4,
            _ => throw new ArgumentException(
                $"Unknown layer '{layer}'; expected layer1, layer2, layer3 or layer4.",
                nameof(layer)
            ),
        };
}
