using System;
using System.Collections.Generic;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;

namespace TiledEnsemble.Models.Stfpm;

/// <summary>STFPM settings; defaults as anomalib's (ResNet-18, layer1–layer3, SGD lr 0.4, momentum 0.9, weight decay
/// 1e-4).</summary>
public sealed record StfpmOptions
{
    /// <summary>Backbone name of teacher and student: "resnet18" (default) or "wide_resnet50_2".</summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>The layers whose features the student learns to match.</summary>
    public IReadOnlyList<string> Layers { get; init; } = new[] { "layer1", "layer2", "layer3" };

    /// <summary>Epochs, early stopping, learning rate, seed.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        BackboneNames.Parse(Backbone);
        if (Layers is null || Layers.Count == 0)
        {
            throw new ArgumentException("STFPM needs at least one layer.", nameof(Layers));
        }

        foreach (var layer in Layers)
        {
            BackboneNames.LayerIndex(layer);
        }

        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
    }
}
