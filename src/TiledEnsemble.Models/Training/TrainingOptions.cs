using System;

namespace TiledEnsemble.Models.Training;

/// <summary>The validation metric that early stopping watches (higher is better).</summary>
public enum TrainingMetric
{
    /// <summary>Pixel-level AUROC of the anomaly maps against the ground-truth masks (anomalib's default
    /// monitor).</summary>
    PixelAuroc,

    /// <summary>Image-level AUROC of the scores against the labels.</summary>
    ImageAuroc,

    /// <summary>The model's own training loss on the good validation images (label 0), negated so that higher is
    /// better. Needs no defective image: the monitor for validation on held-out good images, where both AUROCs are
    /// undefined.</summary>
    GoodImageLoss,
}

/// <summary>How a gradient-trained model (FastFlow, STFPM, Reverse Distillation) is trained.</summary>
/// <remarks>Defaults follow anomalib's tiled-ensemble configuration: 500 epochs, early stopping on pixel AUROC with
/// patience 42.</remarks>
public sealed record TrainingOptions
{
    /// <summary>Most epochs to run.</summary>
    public int MaxEpochs { get; init; } = 500;

    /// <summary>Validation checks without improvement before training stops; null disables early stopping.</summary>
    public int? Patience { get; init; } = 42;

    /// <summary>The metric early stopping watches; the best weights by this metric are kept.</summary>
    public TrainingMetric Monitor { get; init; } = TrainingMetric.PixelAuroc;

    /// <summary>Validate every this many epochs (when validation data is given).</summary>
    public int ValidationInterval { get; init; } = 1;

    /// <summary>Learning rate; null uses the model's default (FastFlow 1e-3, STFPM 0.4, Reverse Distillation
    /// 5e-3).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Seed of the trainable weights' initialisation.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (MaxEpochs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "MaxEpochs must be at least 1.");
        }

        if (Patience is <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Patience),
                Patience,
                "Patience must be at least 1 (or null to disable early stopping)."
            );
        }

        if (ValidationInterval <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ValidationInterval),
                ValidationInterval,
                "ValidationInterval must be at least 1."
            );
        }

        if (LearningRate is { } rate && !(rate > 0 && double.IsFinite(rate)))
        {
            throw new ArgumentOutOfRangeException(
                nameof(LearningRate),
                rate,
                "LearningRate must be a positive finite number (or null for the model's default)."
            );
        }

        if (!Enum.IsDefined(Monitor))
        {
            throw new ArgumentOutOfRangeException(
                nameof(Monitor),
                Monitor,
                "Monitor must be PixelAuroc, ImageAuroc or GoodImageLoss."
            );
        }
    }
}
