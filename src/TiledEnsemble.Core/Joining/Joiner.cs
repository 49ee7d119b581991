using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export;
using TiledEnsemble.Export.Onnx;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>
/// The default <see cref="IJoiner"/>: maps untiled with overlaps averaged, scores averaged over positions (as
/// anomalib), masks and labels OR-ed, boxes moved by their tile's offset and concatenated (anomalib 2.x does not join
/// boxes).
/// </summary>
public sealed class Joiner : IJoiner
{
    /// <summary>The name runs record for this joiner.</summary>
    public const string StageName = "mean_joiner";

    /// <inheritdoc />
    public StageIdentity Identity { get; } = new(StageName);

    /// <inheritdoc />
    public JoinedPrediction Join(IReadOnlyList<TilePrediction> predictions, TileGrid grid)
    {
        var ordered = InGridOrder(predictions, grid);
        var first = ordered[0];
        TensorGuard.Rank(first.AnomalyMaps, 4, "AnomalyMaps", "[B, 1, h, w]");
        long batch = first.AnomalyMaps.shape[0];
        foreach (var p in ordered)
        {
            TensorGuard.Rank(p.AnomalyMaps, 4, $"AnomalyMaps of position {p.Position}", "[B, 1, h, w]");
            TensorGuard.Rank(p.Scores, 1, $"Scores of position {p.Position}", "[B]");
            if (!p.AnomalyMaps.shape.SequenceEqual(first.AnomalyMaps.shape) || p.Scores.shape[0] != batch)
            {
                throw new ArgumentException(
                    $"Position {p.Position} has maps {TensorGuard.Describe(p.AnomalyMaps)} and scores "
                        + $"{TensorGuard.Describe(p.Scores)}; position {first.Position} has maps "
                        + $"{TensorGuard.Describe(first.AnomalyMaps)}. All positions must predict the same batch at "
                        + $"the "
                        + "same map size.",
                    nameof(predictions)
                );
            }

            if (
                (p.PredictedMasks is null) != (first.PredictedMasks is null)
                || (p.PredictedLabels is null) != (first.PredictedLabels is null)
                || (p.Boxes is null) != (first.Boxes is null)
            )
            {
                throw new ArgumentException(
                    $"Position {p.Position} and position {first.Position} differ in which of masks, labels and boxes "
                        + "they carry; all positions must carry the same.",
                    nameof(predictions)
                );
            }
        }

        using var scope = NewDisposeScope();
        var maps = JoinMaps(ordered.Select(p => p.AnomalyMaps.to_type(ScalarType.Float32)), grid);
        var scores = stack(ordered.Select(p => p.Scores.to_type(ScalarType.Float32))).mean(new long[] { 0 });
        Tensor? masks = first.PredictedMasks is null
            ? null
            : JoinMaps(ordered.Select(p => p.PredictedMasks!.to_type(ScalarType.Float32)), grid).gt(Scalars.Zero);
        Tensor? labels = first.PredictedLabels is null
            ? null
            : stack(ordered.Select(p => p.PredictedLabels!.to_type(ScalarType.Bool))).any(0L);
        var boxes = first.Boxes is null ? null : JoinBoxes(ordered, batch, grid);
        maps.MoveToOuterDisposeScope();
        scores.MoveToOuterDisposeScope();
        masks?.MoveToOuterDisposeScope();
        labels?.MoveToOuterDisposeScope();
        if (boxes is not null)
        {
            foreach (var set in boxes)
            {
                set.Corners.MoveToOuterDisposeScope();
                set.Scores.MoveToOuterDisposeScope();
            }
        }

        return new JoinedPrediction(maps, scores, masks, labels, boxes);
    }

    /// <summary>
    /// Predictions ordered by position (row-major) after checking that there is exactly one per position of the grid:
    /// what a joiner of one's own needs first.
    /// </summary>
    /// <exception cref="ArgumentException">A position is missing, repeated or outside the grid.</exception>
    public static TilePrediction[] InGridOrder(IReadOnlyList<TilePrediction> predictions, TileGrid grid)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(grid);
        var ordered = new TilePrediction?[grid.Count];
        foreach (var p in predictions)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(predictions));
            var pos = p.Position;
            if (
                (uint)pos.Row >= (uint)grid.Rows
                || (uint)pos.Column >= (uint)grid.Columns
                || grid[pos.Row, pos.Column] != pos
            )
            {
                throw new ArgumentException(
                    $"Position {pos} is not a position of the {grid.Rows}x{grid.Columns} grid.",
                    nameof(predictions)
                );
            }

            int index = (pos.Row * grid.Columns) + pos.Column;
            if (ordered[index] is not null)
            {
                throw new ArgumentException(
                    $"Position ({pos.Row}, {pos.Column}) appears more than once.",
                    nameof(predictions)
                );
            }

            ordered[index] = p;
        }

        var missing = grid.Positions.Where((_, i) => ordered[i] is null).Select(q => $"({q.Row}, {q.Column})").ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"Expected one prediction for each of the {grid.Count} positions of the {grid.Rows}x{grid.Columns} "
                    + $"grid; got {predictions.Count}, missing {string.Join(", ", missing)}.",
                nameof(predictions)
            );
        }

        return ordered!;
    }

    /// <summary>
    /// <see cref="Join"/> of maps [N, 1, th, tw] at the tile size (and scores [N], optional masks and labels) as ONNX
    /// nodes: tiles side by side where they neither overlap nor leave gaps, otherwise summed at their starts and
    /// divided by how many cover each pixel. Returns the names of the joined maps, scores (mean of positions), masks
    /// (OR) and labels (OR).
    /// </summary>
    internal static (string Maps, string Scores, string? Masks, string? Labels) Export(
        OnnxGraphBuilder g,
        IReadOnlyList<(TilePosition Position, string Maps, string Scores, string? Masks, string? Labels)> tiles,
        TileGrid grid,
        string hint
    )
    {
        var ordered = tiles.OrderBy(t => (t.Position.Row * grid.Columns) + t.Position.Column).ToArray();
        var maps = ExportMaps(g, ordered.Select(t => (t.Position, t.Maps)).ToArray(), grid, $"{hint}.maps");
        var stacked = g.Concat(0, ordered.Select(t => g.Unsqueeze(t.Scores, 0)).ToArray());
        var scores = g.Reduce("ReduceMean", stacked, keepDims: false, 0);
        string? masks = null,
            labels = null;
        if (ordered[0].Masks is not null)
        {
            var asFloat = ordered
                .Select(t => (t.Position, g.Cast(t.Masks!, TensorProto.Types.DataType.Float)))
                .ToArray();
            var joined = ExportMaps(g, asFloat, grid, $"{hint}.masks");
            masks = g.Node("Greater", new[] { joined, g.Scalar($"{hint}.zero", 0f) });
        }

        if (ordered[0].Labels is not null)
        {
            var each = ordered
                .Select(t => g.Unsqueeze(g.Cast(t.Labels!, TensorProto.Types.DataType.Float), 0))
                .ToArray();
            var any = g.Reduce("ReduceMax", g.Concat(0, each), keepDims: false, 0);
            labels = g.Node("Greater", new[] { any, g.Scalar($"{hint}.none", 0f) });
        }

        return (maps, scores, masks, labels);
    }

    private static string ExportMaps(
        OnnxGraphBuilder g,
        (TilePosition Position, string Maps)[] tiles,
        TileGrid grid,
        string hint
    )
    {
        long th = grid.TileSize.Height,
            tw = grid.TileSize.Width;
        long imageHeight = grid.ImageSize.Height,
            imageWidth = grid.ImageSize.Width;
        if (grid.IsRegular && grid.Stride == grid.TileSize)
        {
            var rows = Enumerable
                .Range(0, grid.Rows)
                .Select(r => g.Concat(3, tiles.Skip(r * grid.Columns).Take(grid.Columns).Select(t => t.Maps).ToArray()))
                .ToArray();
            var covering = g.Concat(2, rows);
            return grid.CoversExactly
                ? covering
                : g.Slice(covering, new long[] { 0, 0 }, new[] { imageHeight, imageWidth }, new long[] { 2, 3 });
        }

        long canvasHeight = grid.CoveringSize.Height,
            canvasWidth = grid.CoveringSize.Width;
        var counts = new float[canvasHeight * canvasWidth];
        var placed = new List<string>();
        foreach (var (position, map) in tiles)
        {
            long top = position.Top,
                left = position.Left;
            placed.Add(g.Pad(map, new[] { 0, 0, top, left, 0, 0, canvasHeight - top - th, canvasWidth - left - tw }));
            for (long y = top; y < top + th; y++)
            {
                for (long x = left; x < left + tw; x++)
                {
                    counts[(y * canvasWidth) + x] += 1;
                }
            }
        }

        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = Math.Max(counts[i], 1);
        }

        var mean = g.Div(g.Sum(placed), g.Initializer($"{hint}.counts", counts, 1, 1, canvasHeight, canvasWidth));
        return canvasHeight == imageHeight && canvasWidth == imageWidth
            ? mean
            : g.Slice(mean, new long[] { 0, 0 }, new[] { imageHeight, imageWidth }, new long[] { 2, 3 });
    }

    private static Tensor JoinMaps(IEnumerable<Tensor> perPosition, TileGrid grid)
    {
        var maps = perPosition.ToArray();
        bool atTileSize = maps[0].shape[2] == grid.TileSize.Height && maps[0].shape[3] == grid.TileSize.Width;
        if (!grid.IsRegular)
        {
            return atTileSize
                ? JoinPlaced(maps, grid)
                : throw new ArgumentException(
                    $"Maps of {maps[0].shape[2]}x{maps[0].shape[3]} on a grid of explicit starts: such grids join maps "
                        + $"at the tile size {grid.TileSize} only.",
                    nameof(perPosition)
                );
        }

        if (grid.Stride == grid.TileSize && atTileSize)
        {
            return JoinDisjoint(maps, grid);
        }

        using var scope = NewDisposeScope();
        var stacked = stack(maps);
        var byImage = stacked.permute(1, 0, 2, 3, 4);
        var (canvas, scaled) = TileLayout.Fold(byImage, grid, 0, "AnomalyMaps");
        return TileLayout.FromCovering(canvas, grid, TilingMode.Padding, scaled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Tiles that neither overlap nor are scaled, each copied once into its place: the same values as untiling (every
    /// pixel has one tile, so the average is the tile's value), without stacking the tiles and folding them, which
    /// allocated and wrote the full-resolution maps several times over.
    /// </summary>
    private static Tensor JoinDisjoint(Tensor[] maps, TileGrid grid)
    {
        using var scope = NewDisposeScope();
        long batch = maps[0].shape[0],
            channels = maps[0].shape[1],
            h = grid.TileSize.Height,
            w = grid.TileSize.Width;
        var covering = empty(new[] { batch, channels, grid.Rows * h, grid.Columns * w }, maps[0].dtype, maps[0].device);
        var cells = covering.view(batch, channels, grid.Rows, h, grid.Columns, w);
        for (int i = 0; i < maps.Length; i++)
        {
            cells.select(2, i / grid.Columns).select(3, i % grid.Columns).copy_(maps[i]);
        }

        // Tiles reaching into the zero padding of a non-covering grid: only the image's part is kept.
        var joined = grid.CoversExactly
            ? covering
            : covering[.., .., ..(int)grid.ImageSize.Height, ..(int)grid.ImageSize.Width];
        return joined.MoveToOuterDisposeScope();
    }

    /// <summary>Tiles of a grid of explicit starts: summed at their starts and divided by how many cover each
    /// pixel.</summary>
    private static Tensor JoinPlaced(Tensor[] maps, TileGrid grid)
    {
        using var scope = NewDisposeScope();
        long batch = maps[0].shape[0],
            channels = maps[0].shape[1],
            h = grid.TileSize.Height,
            w = grid.TileSize.Width;
        var sum = zeros(
            new[] { batch, channels, (long)grid.ImageSize.Height, grid.ImageSize.Width },
            maps[0].dtype,
            maps[0].device
        );
        var counts = zeros(
            new[] { 1, 1, (long)grid.ImageSize.Height, grid.ImageSize.Width },
            maps[0].dtype,
            maps[0].device
        );
        for (int i = 0; i < maps.Length; i++)
        {
            var position = grid.Positions[i];
            sum.narrow(2, position.Top, h).narrow(3, position.Left, w).add_(maps[i], Scalars.One);
            counts.narrow(2, position.Top, h).narrow(3, position.Left, w).add_(Scalars.One, Scalars.One);
        }

        // Pixels that no tile covers: sum 0 over count 1, hence 0.
        return sum.div_(counts.clamp_min_(Scalars.One)).MoveToOuterDisposeScope();
    }

    private static List<Boxes> JoinBoxes(TilePrediction[] ordered, long batch, TileGrid grid)
    {
        var joined = new List<Boxes>((int)batch);
        for (int b = 0; b < batch; b++)
        {
            using var scope = NewDisposeScope();
            var corners = new List<Tensor>();
            var scores = new List<Tensor>();
            foreach (var p in ordered)
            {
                if (p.Boxes!.Count != batch)
                {
                    throw new ArgumentException(
                        $"Position {p.Position} has box sets for {p.Boxes.Count} images; the batch has {batch}.",
                        nameof(ordered)
                    );
                }

                var set = p.Boxes[b];
                var offset = tensor(
                    new float[] { p.Position.Left, p.Position.Top, p.Position.Left, p.Position.Top },
                    device: set.Corners.device
                );
                corners.Add(set.Corners.to_type(ScalarType.Float32).add(offset, Scalars.One));
                scores.Add(set.Scores.to_type(ScalarType.Float32));
            }

            var all = cat(corners, 0);
            var allScores = cat(scores, 0);

            // Tiles in the padded margin can put boxes partly or wholly outside the image: clip, then drop empty ones.
            using var width = grid.ImageSize.Width.ToScalar();
            using var height = grid.ImageSize.Height.ToScalar();
            var x = all[.., TensorIndex.Slice(0, 4, 2)].clamp(Scalars.Zero, width);
            var y = all[.., TensorIndex.Slice(1, 4, 2)].clamp(Scalars.Zero, height);
            var clipped = stack(new[] { x[.., 0], y[.., 0], x[.., 1], y[.., 1] }, 1);
            var keep = clipped[.., 2].gt(clipped[.., 0]).logical_and(clipped[.., 3].gt(clipped[.., 1]));
            joined.Add(new Boxes(clipped[keep].MoveToOuterDisposeScope(), allScores[keep].MoveToOuterDisposeScope()));
        }

        return joined;
    }
}
