using System.Collections.Generic;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>What the model of one tile position predicted for a batch of B images. The caller owns the
/// tensors.</summary>
/// <param name="Position">Grid position of the model.</param>
/// <param name="AnomalyMaps">[B, 1, h, w] anomaly maps of the tiles (h, w: tile size or a multiple of it).</param>
/// <param name="Scores">[B] image scores of the tiles.</param>
public sealed record TilePrediction(TilePosition Position, Tensor AnomalyMaps, Tensor Scores)
{
    /// <summary>[B, 1, h, w] predicted masks (boolean or 0/1), if the position thresholded its maps.</summary>
    public Tensor? PredictedMasks { get; init; }

    /// <summary>[B] predicted labels (boolean or 0/1), if the position thresholded its scores.</summary>
    public Tensor? PredictedLabels { get; init; }

    /// <summary>One box set per image, in tile pixel coordinates, if the model predicts boxes.</summary>
    public IReadOnlyList<Boxes>? Boxes { get; init; }
}
