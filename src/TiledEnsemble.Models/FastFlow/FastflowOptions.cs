using System;
using System.Collections.Generic;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>FastFlow settings; defaults as anomalib's (ResNet-18 layer1–layer3, 8 flow steps, hidden ratio 1, Adam lr
/// 1e-3).</summary>
public sealed record FastflowOptions
{
    /// <summary>The input (tile) size: the per-scale LayerNorm is over [C, h, w], so the flow is tied to it.</summary>
    public required Size2D InputSize { get; init; }

    /// <summary>Backbone name: "resnet18" (default) or "wide_resnet50_2".</summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>The feature layers, one flow each.</summary>
    public IReadOnlyList<string> Layers { get; init; } = new[] { "layer1", "layer2", "layer3" };

    /// <summary>The default of <see cref="FlowSteps"/> (anomalib's).</summary>
    public const int DefaultFlowSteps = 8;

    /// <summary>Coupling blocks per flow.</summary>
    public int FlowSteps { get; init; } = DefaultFlowSteps;

    /// <summary>Hidden channels of a coupling subnet, as a fraction of its input channels.</summary>
    public double HiddenRatio { get; init; } = 1.0;

    /// <summary>Only 3×3 subnets; otherwise odd steps use 1×1 convolutions (as in the paper).</summary>
    public bool Conv3x3Only { get; init; }

    /// <summary>Epochs, early stopping, learning rate, seed.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        TensorGuard.Positive(InputSize, nameof(InputSize));
        BackboneNames.Parse(Backbone);
        if (Layers is null || Layers.Count == 0)
        {
            throw new ArgumentException("FastFlow needs at least one layer.", nameof(Layers));
        }

        foreach (var layer in Layers)
        {
            BackboneNames.LayerIndex(layer);
        }

        if (FlowSteps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FlowSteps), FlowSteps, "FlowSteps must be at least 1.");
        }

        if (!(HiddenRatio > 0 && double.IsFinite(HiddenRatio)))
        {
            throw new ArgumentOutOfRangeException(
                nameof(HiddenRatio),
                HiddenRatio,
                "HiddenRatio must be a positive number."
            );
        }

        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
    }
}
