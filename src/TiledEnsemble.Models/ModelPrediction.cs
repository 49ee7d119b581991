using System;
using static TorchSharp.torch;

namespace TiledEnsemble.Models;

/// <summary>Raw model output for a batch; disposing it releases the tensors.</summary>
/// <param name="AnomalyMaps">[B, 1, H, W] raw anomaly maps at the input size.</param>
/// <param name="Scores">[B] raw image scores.</param>
public sealed record ModelPrediction(Tensor AnomalyMaps, Tensor Scores) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        AnomalyMaps.Dispose();
        Scores.Dispose();
    }
}
