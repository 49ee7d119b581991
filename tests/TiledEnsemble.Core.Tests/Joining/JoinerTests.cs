using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Joining;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Joining;

public class JoinerTests
{
    [Fact]
    public void MapsAreUntiledScoresAveragedLabelsAndMasksOred()
    {
        using var scope = NewDisposeScope();

        // 2x2 grid of 4x4 tiles, stride 2, over a 6x6 image; batch of 2.
        var tiler = new EnsembleTiler(4, 2, 6);
        var predictions = new List<TilePrediction>();
        foreach (var p in tiler.TilePositions)
        {
            int k = (p.Row * 2) + p.Column;
            var mask = zeros(2, 1, 4, 4, dtype: ScalarType.Bool);
            if (k == 3)
            {
                mask[0, 0, 0, 0] = true; // image 0, pixel (2, 2): shared by all four tiles
            }

            predictions.Add(
                new TilePrediction(p, TestTensors.Full(new long[] { 2, 1, 4, 4 }, k), tensor(new float[] { k, 10 * k }))
                {
                    PredictedMasks = mask,
                    PredictedLabels = tensor(new[] { k == 1, false }),
                }
            );
        }

        predictions.Reverse(); // order must not matter
        using var joined = new Joiner().Join(predictions, tiler.Grid!);
        TensorAssert.Shape(joined.AnomalyMaps, 2, 1, 6, 6);
        Assert.Equal(new float[] { 1.5f, 15f }, TensorAssert.Values(joined.Scores));
        Assert.Equal(new[] { true, false }, joined.PredictedLabels!.data<bool>().ToArray());

        // Corner pixels belong to one tile each; the centre 2x2 to all four ((0+1+2+3)/4).
        var map = joined.AnomalyMaps[0, 0];
        Assert.Equal(0f, map[0, 0].item<float>());
        Assert.Equal(3f, map[5, 5].item<float>());
        Assert.Equal(0.5f, map[0, 3].item<float>());
        Assert.Equal(1.5f, map[3, 3].item<float>());
        var masks = joined.PredictedMasks!;
        Assert.Equal(ScalarType.Bool, masks.dtype);
        Assert.Equal(1, masks.sum().item<long>());
        Assert.True(masks[0, 0, 2, 2].item<bool>());
    }

    [Theory]
    [InlineData(96, 64, 32)] // tiles cover the image exactly
    [InlineData(100, 90, 32)] // the last row and column reach into the padding
    public void DisjointTilesAreCopiedBackToWhereTheyWereCut(int height, int width, int tile)
    {
        using var scope = NewDisposeScope();

        // A picture whose every pixel says where it is, cut into the tiles (zero beyond the image, as the tiler pads):
        // joining must give the picture back, channel by channel, for both images of the batch; masks likewise.
        var tiler = new EnsembleTiler(tile, tile, new Size2D(height, width));
        var grid = tiler.Grid!;
        var picture = TestTensors.Arange(2L * 2 * height * width, ScalarType.Float32).reshape(2, 2, height, width);
        var padded = zeros(2, 2, grid.CoveringSize.Height, grid.CoveringSize.Width);
        padded[.., .., ..height, ..width] = picture;
        var predictions = tiler
            .TilePositions.Select(p => new TilePrediction(
                p,
                padded[.., .., p.Top..(p.Top + tile), p.Left..(p.Left + tile)],
                zeros(2)
            )
            {
                PredictedMasks = padded[.., .., p.Top..(p.Top + tile), p.Left..(p.Left + tile)]
                    .remainder(TestTensors.Scalar(3))
                    .eq(TestTensors.Scalar(0)),
            })
            .Reverse()
            .ToList();
        using var joined = new Joiner().Join(predictions, tiler.Grid!);
        Assert.Equal(new long[] { 2, 2, height, width }, joined.AnomalyMaps.shape);
        Assert.True(joined.AnomalyMaps.eq(picture).all().item<bool>());
        Assert.True(
            joined
                .PredictedMasks!.eq(picture.remainder(TestTensors.Scalar(3)).eq(TestTensors.Scalar(0)))
                .all()
                .item<bool>()
        );
    }

    [Fact]
    public void BoxesAreShiftedByTheirTileOffsetAndClippedToTheImage()
    {
        using var scope = NewDisposeScope();

        // 40x40 image, tiles 32, stride 32: covering 64, so the right and bottom tiles reach into the padding.
        var tiler = new EnsembleTiler(32, 32, 40);
        var predictions = tiler
            .TilePositions.Select(p =>
            {
                var corners = tensor(
                    new float[,]
                    {
                        { 1, 2, 5, 6 },
                        { 10, 10, 20, 20 },
                    }
                );
                var set = new Boxes(corners, tensor(new float[] { 0.5f, 0.9f }));
                return new TilePrediction(p, zeros(1, 1, 32, 32), zeros(1)) { Boxes = new[] { set } };
            })
            .ToList();

        using var joined = new Joiner().Join(predictions, tiler.Grid!);
        var boxes = joined.Boxes![0];

        // Tile (0,0): both boxes as given. Tile (0,1) at x+32: (33,2,37,6) and (42,10,52,20) clipped to x<=40 ->
        // dropped. Tile (1,0) at y+32: (1,34,5,38) kept, second dropped. Tile (1,1): (33,34,37,38) kept, second
        // dropped.
        var expected = new float[] { 1, 2, 5, 6, 10, 10, 20, 20, 33, 2, 37, 6, 1, 34, 5, 38, 33, 34, 37, 38 };
        Assert.Equal(expected, TensorAssert.Values(boxes.Corners));
        Assert.Equal(new[] { 0.5f, 0.9f, 0.5f, 0.5f, 0.5f }, TensorAssert.Values(boxes.Scores));
    }

    [Fact]
    public void PartlyOutsideBoxesAreClipped()
    {
        using var scope = NewDisposeScope();
        var tiler = new EnsembleTiler(32, 32, 40);
        var predictions = tiler
            .TilePositions.Select(p => new TilePrediction(p, zeros(1, 1, 32, 32), zeros(1))
            {
                Boxes = new[]
                {
                    p.Row == 0 && p.Column == 1
                        ? new Boxes(
                            tensor(
                                new float[,]
                                {
                                    { 2, 0, 12, 4 },
                                }
                            ),
                            ones(1)
                        )
                        : Boxes.Empty(),
                },
            })
            .ToList();
        using var joined = new Joiner().Join(predictions, tiler.Grid!);
        Assert.Equal(new float[] { 34, 0, 40, 4 }, TensorAssert.Values(joined.Boxes![0].Corners));
    }

    [Fact]
    public void MissingRepeatedOrInconsistentPositionsAreRejected()
    {
        using var scope = NewDisposeScope();
        var tiler = new EnsembleTiler(16, 16, 32);
        var all = tiler.TilePositions.Select(p => new TilePrediction(p, zeros(1, 1, 16, 16), zeros(1))).ToList();
        var joiner = new Joiner();
        var grid = tiler.Grid!;

        var missing = Assert.Throws<ArgumentException>(() => joiner.Join(all.Take(3).ToList(), grid));
        Assert.Contains("missing (1, 1)", missing.Message);
        var repeated = Assert.Throws<ArgumentException>(() => joiner.Join(all.Append(all[0]).ToList(), grid));
        Assert.Contains("more than once", repeated.Message);
        var outside = Assert.Throws<ArgumentException>(() =>
            joiner.Join(
                all.Append(new TilePrediction(new TilePosition(5, 0, 0, 0), zeros(1, 1, 16, 16), zeros(1))).ToList(),
                grid
            )
        );
        Assert.Contains("not a position of the 2x2 grid", outside.Message);
        var batches = all.Select((p, i) => i == 2 ? p with { Scores = zeros(3), AnomalyMaps = zeros(3, 1, 16, 16) } : p)
            .ToList();
        Assert.Throws<ArgumentException>(() => joiner.Join(batches, grid));
    }
}
