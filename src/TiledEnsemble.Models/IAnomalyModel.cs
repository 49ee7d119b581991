using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace TiledEnsemble.Models;

/// <summary>
/// The contract between the ensemble and one anomaly model: fit on a stream of batches, predict maps and scores,
/// export and import the fitted state. Images are [B, 3, H, W] floats in [0, 1] (the model applies the ImageNet
/// normalization itself); models move inputs to their device and never keep more than one batch of images.
/// </summary>
public interface IAnomalyModel : IDisposable
{
    /// <summary>
    /// The model's stable name ("Padim", "Patchcore", …, or an outside model's own): recorded in its saved states as
    /// the setting "model" and in runs as the model stage's name, so that a state is only loaded into the model that
    /// made it.
    /// </summary>
    string Name { get; }

    /// <summary>The device the model computes on.</summary>
    Device Device { get; }

    /// <summary>Whether <see cref="Fit"/> has completed (or a state was imported).</summary>
    bool IsFitted { get; }

    /// <summary>Fits on every batch of the stream, once.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; the model stays unfitted.</exception>
    void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default);

    /// <summary>Predicts raw anomaly maps [B, 1, H, W] at the input size and raw scores [B].</summary>
    ModelPrediction Predict(Tensor images);

    /// <summary>The fitted state, on the CPU.</summary>
    ModelState ExportState();

    /// <summary>Restores a fitted state; checks that it was made by this kind of model with matching
    /// settings.</summary>
    void ImportState(ModelState state);
}
