using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>How the per-layer maps of Reverse Distillation are combined.</summary>
public enum AnomalyMapMode
{
    /// <summary>Sum of the layers' maps (anomalib's default for this model).</summary>
    Add,

    /// <summary>Product of the layers' maps.</summary>
    Multiply,
}

/// <summary>
/// Reverse Distillation settings; defaults as anomalib's (Wide-ResNet-50-2, layer1–layer3, maps added, Adam lr 5e-3
/// with betas 0.5/0.99, blur σ 4).
/// </summary>
public sealed record ReverseDistillationOptions
{
    /// <summary>
    /// Encoder backbone: "resnet18" (default: the backbone with ImageNet weights here) or "wide_resnet50_2" (anomalib's
    /// default, with weights you provide).
    /// </summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>Always layer1–layer3: the bottleneck fuses exactly these three scales.</summary>
    public IReadOnlyList<string> Layers { get; init; } = new[] { "layer1", "layer2", "layer3" };

    /// <summary>How per-layer maps are combined.</summary>
    public AnomalyMapMode MapMode { get; init; } = AnomalyMapMode.Add;

    /// <summary>Sigma of the Gaussian blur of the anomaly map.</summary>
    public double BlurSigma { get; init; } = 4;

    /// <summary>Epochs, early stopping, learning rate, seed.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        BackboneNames.Parse(Backbone);
        if (Layers is null || !Layers.SequenceEqual(new[] { "layer1", "layer2", "layer3" }))
        {
            throw new ArgumentException(
                $"Reverse Distillation fuses layer1, layer2 and layer3 in its bottleneck; got layers "
                    + $"[{string.Join(", ", Layers ?? Array.Empty<string>())}].",
                nameof(Layers)
            );
        }

        if (!Enum.IsDefined(MapMode))
        {
            throw new ArgumentOutOfRangeException(nameof(MapMode), MapMode, "MapMode must be Add or Multiply.");
        }

        if (!(BlurSigma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "BlurSigma must be positive.");
        }

        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
    }
}
