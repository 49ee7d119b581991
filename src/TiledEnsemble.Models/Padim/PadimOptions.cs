using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.Padim;

/// <summary>Padim settings; defaults as anomalib's.</summary>
public sealed record PadimOptions
{
    /// <summary>Backbone name: "resnet18" (default) or "wide_resnet50_2".</summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>Feature layers, upsampled to the first one's resolution and concatenated.</summary>
    public IReadOnlyList<string> Layers { get; init; } = new[] { "layer1", "layer2", "layer3" };

    /// <summary>Channels kept at random (seeded); null: 100 for ResNet-18, 550 for Wide-ResNet-50-2.</summary>
    public int? NFeatures { get; init; }

    /// <summary>Seed of the channel selection.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Sigma of the Gaussian blur of the anomaly map.</summary>
    public double BlurSigma { get; init; } = 4;

    /// <summary>Channels after concatenation.</summary>
    public int TotalChannels => Layers.Sum(l => BackboneNames.Channels(BackboneNames.Parse(Backbone), l));

    /// <summary>The number of channels kept.</summary>
    public int EffectiveFeatures => NFeatures ?? (BackboneNames.Parse(Backbone) == BackboneKind.ResNet18 ? 100 : 550);

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        BackboneNames.Parse(Backbone);
        if (Layers.Count == 0)
        {
            throw new ArgumentException("Padim needs at least one layer.", nameof(Layers));
        }

        foreach (var layer in Layers)
        {
            BackboneNames.LayerIndex(layer);
        }

        if (EffectiveFeatures <= 0 || EffectiveFeatures > TotalChannels)
        {
            throw new ArgumentOutOfRangeException(
                nameof(NFeatures),
                EffectiveFeatures,
                $"NFeatures must be in 1..{TotalChannels} for {Backbone} with layers {string.Join(", ", Layers)}."
            );
        }

        if (!(BlurSigma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "BlurSigma must be positive.");
        }
    }
}
