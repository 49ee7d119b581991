using System.Collections.Generic;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Joining;

/// <summary>
/// Joins the predictions of every tile position into one prediction per image. The default, <see cref="Joiner"/>,
/// averages overlapping maps and the positions' scores (as anomalib); a joiner of one's own might take the maximum.
/// </summary>
/// <remarks>
/// Tensors of the input belong to the caller and are not disposed; the result's tensors are new and belong to the
/// caller (dispose the <see cref="JoinedPrediction"/>). Everything stays on the input's device. Implementations are
/// immutable and thread-safe.
/// </remarks>
public interface IJoiner : IPipelineStage
{
    /// <summary>Joins one prediction per position of <paramref name="grid"/>, in any order.</summary>
    /// <param name="predictions">
    /// One per grid position: maps [B, 1, th, tw] at the tile size (the default joiner also takes maps at a multiple of
    /// it on regular grids), scores [B], and optionally masks, labels and boxes in tile coordinates.
    /// </param>
    /// <param name="grid">The layout the tiles were cut from.</param>
    /// <returns>Maps [B, 1, H, W] at the grid's image size and scores [B]; masks, labels and boxes where the tiles had
    /// them.</returns>
    /// <exception cref="System.ArgumentException">A position is missing, repeated or outside the grid, or shapes
    /// disagree.</exception>
    JoinedPrediction Join(IReadOnlyList<TilePrediction> predictions, TileGrid grid);
}
