using System;
using System.Linq;
using TiledEnsemble.Tiling;
using Xunit;

namespace TiledEnsemble.Tests.Tiling;

public class TileGridTests
{
    [Theory]
    [InlineData(256, 128, 128, 2, 256)]
    [InlineData(256, 128, 64, 3, 256)]
    [InlineData(250, 128, 64, 3, 256)]
    [InlineData(190, 128, 64, 2, 192)]
    [InlineData(100, 32, 24, 4, 104)]
    [InlineData(64, 64, 64, 1, 64)]
    public void CountsAndCoveringSizeMatchBruteForcePlacement(
        int edge,
        int tile,
        int stride,
        int expectedCount,
        int expectedCovering
    )
    {
        // Independent check: place tiles at 0, S, 2S, … until one reaches or passes the edge.
        int placed = 0;
        int start = 0;
        while (true)
        {
            placed++;
            if (start + tile >= edge)
            {
                break;
            }

            start += stride;
        }

        var grid = TileGrid.Create((edge, edge + 7), (tile, tile), (stride, stride));
        Assert.Equal(expectedCount, placed);
        Assert.Equal(expectedCount, grid.Rows);
        Assert.Equal(start + tile, grid.CoveringSize.Height);
        Assert.Equal(expectedCovering, grid.CoveringSize.Height);
        Assert.Equal(grid.Rows * grid.Columns, grid.Positions.Count);
    }

    [Fact]
    public void PositionsAreRowMajorWithPixelOffsets()
    {
        var grid = TileGrid.Create((96, 128), (64, 64), (32, 32));
        Assert.Equal(2, grid.Rows);
        Assert.Equal(3, grid.Columns);
        var expected = new[]
        {
            new TilePosition(0, 0, 0, 0),
            new TilePosition(0, 1, 0, 32),
            new TilePosition(0, 2, 0, 64),
            new TilePosition(1, 0, 32, 0),
            new TilePosition(1, 1, 32, 32),
            new TilePosition(1, 2, 32, 64),
        };
        Assert.Equal(expected, grid.Positions.ToArray());
        Assert.Equal(new TilePosition(1, 2, 32, 64), grid[1, 2]);
    }

    [Fact]
    public void InternalBordersIncludeTileEndsWhenTileIsNotAMultipleOfStride()
    {
        // Tiles of 48 with stride 32 over 112: starts 0, 32, 64; ends 48, 80, 112.
        var grid = TileGrid.Create((112, 112), 48, 32);
        Assert.Equal(new[] { 32, 48, 64, 80 }, grid.InternalBorders(vertical: true).ToArray());
    }

    [Theory]
    [InlineData(0, 32, 64, "tileSize")]
    [InlineData(32, 0, 64, "stride")]
    [InlineData(32, 48, 64, "stride")]
    [InlineData(128, 64, 64, "tileSize")]
    [InlineData(32, 32, -5, "imageSize")]
    public void InvalidGeometryNamesTheParameter(int tile, int stride, int image, string parameter)
    {
        var error = Assert.Throws<ArgumentException>(() => TileGrid.Create(image, tile, stride));
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains(parameter, error.Message);
    }
}
