using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>Validation images with their truth, for early stopping. The loop does not dispose them.</summary>
/// <param name="Images">[B, 3, H, W] in [0, 1].</param>
/// <param name="Labels">[B]: 1 anomalous, 0 normal (negative: unknown, left out of the metric).</param>
/// <param name="Masks">[B, 1, H, W] ground truth (0/1).</param>
public sealed record ValidationBatch(Tensor Images, Tensor Labels, Tensor Masks);
