using System;

namespace TiledEnsemble.Models.Training;

/// <summary>The loss became NaN or infinite; the message names the model, epoch and step.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string model, int epoch, int step, double loss)
        : base(
            $"{model} training diverged: the loss is {loss} at epoch {epoch}, step {step}. Lower the learning rate, "
                + $"check the input images for NaN or extreme values, or train from a new seed."
        )
    {
        Model = model;
        Epoch = epoch;
        Step = step;
    }

    /// <summary>Creates the exception with a context (for example the tile position) in front of an inner
    /// one.</summary>
    public TrainingDivergedException(string context, TrainingDivergedException inner)
        : base($"{context}: {inner?.Message}", inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Model = inner.Model;
        Epoch = inner.Epoch;
        Step = inner.Step;
    }

    /// <summary>The model that diverged.</summary>
    public string Model { get; }

    /// <summary>1-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>1-based step within the epoch.</summary>
    public int Step { get; }
}
