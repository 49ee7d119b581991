using System;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// What a fitted post-processor made of a batch: maps and scores on its output scale and, where it thresholds, masks
/// and labels. The caller owns the tensors (disposing this releases them); they may be views of the input.
/// </summary>
/// <param name="Maps">[B, 1, H, W] anomaly maps.</param>
/// <param name="Scores">[B] scores.</param>
/// <param name="Masks">[B, 1, H, W] boolean masks, or null where this level does not threshold.</param>
/// <param name="Labels">[B] boolean labels, or null where this level does not threshold.</param>
public sealed record ProcessedPrediction(Tensor Maps, Tensor Scores, Tensor? Masks, Tensor? Labels) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Maps.Dispose();
        Scores.Dispose();
        Masks?.Dispose();
        Labels?.Dispose();
    }
}
