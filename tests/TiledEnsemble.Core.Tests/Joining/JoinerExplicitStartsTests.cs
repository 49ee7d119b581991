using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Joining;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Joining;

/// <summary>The default joiner on grids of explicit starts, against a pixel-by-pixel mean of the covering
/// tiles.</summary>
public class JoinerExplicitStartsTests
{
    [Fact]
    public void EachPixelIsTheMeanOfTheTilesThatCoverItAndUncoveredPixelsAreZero()
    {
        using var scope = NewDisposeScope();

        // 20x24 image, tiles of 8x10: rows start at 1, 5 and 12 (overlapping, row 0 uncovered), columns at 0 and 14
        // (a gap at columns 10..13).
        var grid = TileGrid.FromStarts((20, 24), (8, 10), new[] { 1, 5, 12 }, new[] { 0, 14 });
        var tiles = grid
            .Positions.Select((p, i) => (p, TestTensors.Rand(new long[] { 2, 1, 8, 10 }, (ulong)(i + 1))))
            .ToList();
        var predictions = tiles.Select(t => new TilePrediction(t.p, t.Item2, zeros(2))).ToList();
        using var joined = new Joiner().Join(predictions, grid);
        TensorAssert.Shape(joined.AnomalyMaps, 2, 1, 20, 24);

        var values = tiles.Select(t => (t.p, t.Item2.data<float>().ToArray())).ToList();
        var actual = joined.AnomalyMaps.data<float>().ToArray();
        for (int b = 0; b < 2; b++)
        {
            for (int y = 0; y < 20; y++)
            {
                for (int x = 0; x < 24; x++)
                {
                    var covering = new List<float>();
                    foreach (var (p, tile) in values)
                    {
                        if (y >= p.Top && y < p.Top + 8 && x >= p.Left && x < p.Left + 10)
                        {
                            covering.Add(tile[(b * 80) + ((y - p.Top) * 10) + (x - p.Left)]);
                        }
                    }

                    float expected = covering.Count == 0 ? 0 : covering.Sum() / covering.Count;
                    Assert.Equal(expected, actual[(b * 480) + (y * 24) + x], 5);
                }
            }
        }
    }
}
