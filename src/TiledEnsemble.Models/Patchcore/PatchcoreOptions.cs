using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.Patchcore;

/// <summary>Patchcore settings; defaults as anomalib's.</summary>
public sealed record PatchcoreOptions
{
    /// <summary>
    /// Backbone name: "resnet18" (default: the backbone with ImageNet weights here) or "wide_resnet50_2" (anomalib's
    /// default, with weights you provide).
    /// </summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>Feature layers; the deeper ones are upsampled to the first one's resolution.</summary>
    public IReadOnlyList<string> Layers { get; init; } = new[] { "layer2", "layer3" };

    /// <summary>Fraction of training patches kept in the memory bank by greedy k-center coreset sampling.</summary>
    public double CoresetSamplingRatio { get; init; } = 0.1;

    /// <summary>Neighbours used to re-weight the image score.</summary>
    public int NumNeighbors { get; init; } = 9;

    /// <summary>Rows per block when computing distances, bounding peak memory whatever the bank size.</summary>
    public int DistanceChunkSize { get; init; } = 4096;

    /// <summary>Dimension of the random projection used during coreset selection; null: the Johnson–Lindenstrauss
    /// bound for ε = 0.9.</summary>
    public int? ProjectionDimension { get; init; }

    /// <summary>Seed of the projection and the first coreset point.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Sigma of the Gaussian blur of the anomaly map.</summary>
    public double BlurSigma { get; init; } = 4;

    /// <summary>Channels of a patch feature.</summary>
    public int Channels => Layers.Sum(l => BackboneNames.Channels(BackboneNames.Parse(Backbone), l));

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        BackboneNames.Parse(Backbone);
        if (Layers.Count == 0)
        {
            throw new ArgumentException("Patchcore needs at least one layer.", nameof(Layers));
        }

        foreach (var layer in Layers)
        {
            BackboneNames.LayerIndex(layer);
        }

        if (!(CoresetSamplingRatio > 0 && CoresetSamplingRatio <= 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(CoresetSamplingRatio),
                CoresetSamplingRatio,
                "CoresetSamplingRatio must be in (0, 1]."
            );
        }

        if (!(BlurSigma > 0 && double.IsFinite(BlurSigma)))
        {
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "BlurSigma must be a positive number.");
        }

        if (NumNeighbors < 1 || DistanceChunkSize < 1 || ProjectionDimension is < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(NumNeighbors),
                $"NumNeighbors ({NumNeighbors}), DistanceChunkSize ({DistanceChunkSize}) and ProjectionDimension "
                    + $"({ProjectionDimension}) must be positive."
            );
        }
    }
}
