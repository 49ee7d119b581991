using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// A batch of validation predictions with their ground truth, as a post-processor learns from it. The tensors belong to
/// the library and are disposed once the next batch is asked for: copy what must be kept.
/// </summary>
/// <param name="Maps">
/// [B, 1, H, W] anomaly maps: a position's tile maps at the position level; at the image level the joined,
/// seam-smoothed maps (after any position-level processing).
/// </param>
/// <param name="Scores">[B] image (or tile) scores.</param>
/// <param name="Labels">
/// [B] ground truth, boolean or 0/1 (true is anomalous). At the position level a tile is anomalous when its part of the
/// ground-truth mask is. Only samples with a known label are given.
/// </param>
/// <param name="Masks">[B, 1, H, W] ground-truth masks (0/1), or null when the data has none.</param>
public sealed record CalibrationBatch(Tensor Maps, Tensor Scores, Tensor Labels, Tensor? Masks);
