using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>
/// Joins the predictions of every tile position into one prediction per image: maps untiled with overlaps averaged,
/// scores averaged over positions (as anomalib), masks and labels OR-ed, boxes moved by their tile's offset and
/// concatenated (anomalib 2.x does not join boxes).
/// </summary>
public sealed class Joiner
{
    private readonly EnsembleTiler _tiler;
    private readonly TileGrid _grid;

    /// <summary>Creates a joiner for the grid of <paramref name="tiler"/>, which must know its image size.</summary>
    public Joiner(EnsembleTiler tiler)
    {
        ArgumentNullException.ThrowIfNull(tiler);
        _grid = tiler.Grid ?? throw new ArgumentException("The ensemble tiler needs an image size to join predictions; build it with imageSize.", nameof(tiler));
        _tiler = tiler;
    }

    /// <summary>The grid being joined.</summary>
    public TileGrid Grid => _grid;

    /// <summary>Joins one prediction per grid position (in any order).</summary>
    /// <exception cref="ArgumentException">A position is missing, repeated or outside the grid, or batch sizes and shapes disagree.</exception>
    public JoinedPrediction Join(IReadOnlyList<TilePrediction> predictions)
    {
        var ordered = Order(predictions);
        var first = ordered[0];
        TensorGuard.Rank(first.AnomalyMaps, 4, "AnomalyMaps", "[B, 1, h, w]");
        long batch = first.AnomalyMaps.shape[0];
        foreach (var p in ordered)
        {
            TensorGuard.Rank(p.AnomalyMaps, 4, $"AnomalyMaps of position {p.Position}", "[B, 1, h, w]");
            TensorGuard.Rank(p.Scores, 1, $"Scores of position {p.Position}", "[B]");
            if (!p.AnomalyMaps.shape.SequenceEqual(first.AnomalyMaps.shape) || p.Scores.shape[0] != batch)
            {
                throw new ArgumentException($"Position {p.Position} has maps {TensorGuard.Describe(p.AnomalyMaps)} and scores {TensorGuard.Describe(p.Scores)}; position {first.Position} has maps {TensorGuard.Describe(first.AnomalyMaps)}. All positions must predict the same batch at the same map size.", nameof(predictions));
            }

            if ((p.PredictedMasks is null) != (first.PredictedMasks is null) || (p.PredictedLabels is null) != (first.PredictedLabels is null) || (p.Boxes is null) != (first.Boxes is null))
            {
                throw new ArgumentException($"Position {p.Position} and position {first.Position} differ in which of masks, labels and boxes they carry; all positions must carry the same.", nameof(predictions));
            }
        }

        using var scope = NewDisposeScope();
        var maps = JoinMaps(ordered.Select(p => p.AnomalyMaps.to_type(ScalarType.Float32)));
        var scores = stack(ordered.Select(p => p.Scores.to_type(ScalarType.Float32))).mean(new long[] { 0 });
        Tensor? masks = first.PredictedMasks is null ? null : JoinMaps(ordered.Select(p => p.PredictedMasks!.to_type(ScalarType.Float32))).gt(Scalars.Zero);
        Tensor? labels = first.PredictedLabels is null ? null : stack(ordered.Select(p => p.PredictedLabels!.to_type(ScalarType.Bool))).any(0L);
        var boxes = first.Boxes is null ? null : JoinBoxes(ordered, batch);
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

    private TilePrediction[] Order(IReadOnlyList<TilePrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var ordered = new TilePrediction?[_grid.Count];
        foreach (var p in predictions)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(predictions));
            var pos = p.Position;
            if ((uint)pos.Row >= (uint)_grid.Rows || (uint)pos.Column >= (uint)_grid.Columns)
            {
                throw new ArgumentException($"Position ({pos.Row}, {pos.Column}) is outside the {_grid.Rows}x{_grid.Columns} grid.", nameof(predictions));
            }

            int index = (pos.Row * _grid.Columns) + pos.Column;
            if (ordered[index] is not null)
            {
                throw new ArgumentException($"Position ({pos.Row}, {pos.Column}) appears more than once.", nameof(predictions));
            }

            ordered[index] = p;
        }

        var missing = _grid.Positions.Where((_, i) => ordered[i] is null).Select(q => $"({q.Row}, {q.Column})").ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"Expected one prediction for each of the {_grid.Count} positions of the {_grid.Rows}x{_grid.Columns} grid; got {predictions.Count}, missing {string.Join(", ", missing)}.", nameof(predictions));
        }

        return ordered!;
    }

    private Tensor JoinMaps(IEnumerable<Tensor> perPosition)
    {
        var maps = perPosition.ToArray();
        if (_grid.Stride == _grid.TileSize && maps[0].shape[2] == _grid.TileSize.Height && maps[0].shape[3] == _grid.TileSize.Width)
        {
            return JoinDisjoint(maps);
        }

        var stacked = stack(maps);
        var grouped = stacked.reshape(_grid.Rows, _grid.Columns, stacked.shape[1], stacked.shape[2], stacked.shape[3], stacked.shape[4]);
        return _tiler.Untile(grouped, _grid.ImageSize);
    }

    /// <summary>
    /// Tiles that neither overlap nor are scaled, each copied once into its place: the same values as untiling (every
    /// pixel has one tile, so the average is the tile's value), without stacking the tiles and folding them, which
    /// allocated and wrote the full-resolution maps several times over.
    /// </summary>
    private Tensor JoinDisjoint(Tensor[] maps)
    {
        using var scope = NewDisposeScope();
        long batch = maps[0].shape[0], channels = maps[0].shape[1], h = _grid.TileSize.Height, w = _grid.TileSize.Width;
        var covering = empty(new[] { batch, channels, _grid.Rows * h, _grid.Columns * w }, maps[0].dtype, maps[0].device);
        var cells = covering.view(batch, channels, _grid.Rows, h, _grid.Columns, w);
        for (int i = 0; i < maps.Length; i++)
        {
            cells.select(2, i / _grid.Columns).select(3, i % _grid.Columns).copy_(maps[i]);
        }

        // Tiles reaching into the zero padding of a non-covering grid: only the image's part is kept.
        var joined = _grid.CoversExactly ? covering : covering[.., .., ..(int)_grid.ImageSize.Height, ..(int)_grid.ImageSize.Width];
        return joined.MoveToOuterDisposeScope();
    }

    private List<Boxes> JoinBoxes(TilePrediction[] ordered, long batch)
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
                    throw new ArgumentException($"Position {p.Position} has box sets for {p.Boxes.Count} images; the batch has {batch}.", nameof(ordered));
                }

                var set = p.Boxes[b];
                var offset = tensor(new float[] { p.Position.Left, p.Position.Top, p.Position.Left, p.Position.Top }, device: set.Corners.device);
                corners.Add(set.Corners.to_type(ScalarType.Float32).add(offset, Scalars.One));
                scores.Add(set.Scores.to_type(ScalarType.Float32));
            }

            var all = cat(corners, 0);
            var allScores = cat(scores, 0);

            // Tiles in the padded margin can put boxes partly or wholly outside the image: clip, then drop empty ones.
            using var width = _grid.ImageSize.Width.ToScalar();
            using var height = _grid.ImageSize.Height.ToScalar();
            var x = all[.., TensorIndex.Slice(0, 4, 2)].clamp(Scalars.Zero, width);
            var y = all[.., TensorIndex.Slice(1, 4, 2)].clamp(Scalars.Zero, height);
            var clipped = stack(new[] { x[.., 0], y[.., 0], x[.., 1], y[.., 1] }, 1);
            var keep = clipped[.., 2].gt(clipped[.., 0]).logical_and(clipped[.., 3].gt(clipped[.., 1]));
            joined.Add(new Boxes(clipped[keep].MoveToOuterDisposeScope(), allScores[keep].MoveToOuterDisposeScope()));
        }

        return joined;
    }
}
