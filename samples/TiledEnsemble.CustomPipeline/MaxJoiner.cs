using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Joining;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Samples.CustomPipeline;

/// <summary>
/// A joiner that keeps the largest value where tiles overlap instead of the mean, so that a defect seen by one tile
/// is not diluted by a neighbour that missed it; the image score is the largest position score, masks and labels are
/// OR-ed. Pixels that no tile covers get 0.
/// </summary>
public sealed class MaxJoiner : IJoiner
{
    /// <inheritdoc />
    public StageIdentity Identity { get; } = new("samples.max_joiner");

    /// <inheritdoc />
    public JoinedPrediction Join(IReadOnlyList<TilePrediction> predictions, TileGrid grid)
    {
        var ordered = Joiner.InGridOrder(predictions, grid);
        using var scope = NewDisposeScope();
        using var zero = 0.ToScalar();
        var maps = Place(ordered.Select(p => (p.Position, p.AnomalyMaps.to_type(ScalarType.Float32))), grid);
        var scores = stack(ordered.Select(p => p.Scores.to_type(ScalarType.Float32))).amax(new long[] { 0 });
        var masks = ordered[0].PredictedMasks is null
            ? null
            : Place(ordered.Select(p => (p.Position, p.PredictedMasks!.to_type(ScalarType.Float32))), grid).gt(zero);
        var labels = ordered[0].PredictedLabels is null
            ? null
            : stack(ordered.Select(p => p.PredictedLabels!.to_type(ScalarType.Bool))).any(0L);
        return new JoinedPrediction(
            maps.MoveToOuterDisposeScope(),
            scores.MoveToOuterDisposeScope(),
            masks?.MoveToOuterDisposeScope(),
            labels?.MoveToOuterDisposeScope(),
            null
        );
    }

    /// <summary>The tiles at their starts, the largest value where they overlap; [B, 1, H, W].</summary>
    private static Tensor Place(IEnumerable<(TilePosition Position, Tensor Maps)> tiles, TileGrid grid)
    {
        using var scope = NewDisposeScope();
        var image = grid.ImageSize;
        Tensor? canvas = null;
        foreach (var (position, maps) in tiles)
        {
            if (maps.shape[2] != grid.TileSize.Height || maps.shape[3] != grid.TileSize.Width)
            {
                throw new ArgumentException(
                    $"MaxJoiner joins maps at the tile size {grid.TileSize}; got {maps.shape[2]}x{maps.shape[3]}."
                );
            }

            if (canvas is null)
            {
                using var lowest = float.NegativeInfinity.ToScalar();
                canvas = full(
                    new[] { maps.shape[0], maps.shape[1], image.Height, image.Width },
                    lowest,
                    ScalarType.Float32,
                    maps.device
                );
            }

            // A tile of a grid padded past the image keeps only its part inside the image.
            int height = Math.Min(grid.TileSize.Height, image.Height - position.Top);
            int width = Math.Min(grid.TileSize.Width, image.Width - position.Left);
            var region = canvas.narrow(2, position.Top, height).narrow(3, position.Left, width);
            region.copy_(region.maximum(maps.narrow(2, 0, height).narrow(3, 0, width)));
        }

        using var zero = 0.ToScalar();
        return canvas!.masked_fill_(canvas.isneginf(), zero).MoveToOuterDisposeScope();
    }
}
