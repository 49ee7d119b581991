using System;
using System.Linq;
using TiledEnsemble.Tiling;
using Xunit;

namespace TiledEnsemble.Tests.Tiling;

public class TileGridFromStartsTests
{
    [Fact]
    public void PositionsStartWhereToldAndBordersAreEveryTileStartAndEndInsideTheImage()
    {
        var grid = TileGrid.FromStarts((100, 80), (40, 32), new[] { 0, 30, 60 }, new[] { 8, 48 });
        Assert.False(grid.IsRegular);
        Assert.Equal(3, grid.Rows);
        Assert.Equal(2, grid.Columns);
        Assert.Equal(new TilePosition(1, 1, 30, 48), grid[1, 1]);
        Assert.Equal(
            new[] { (0, 8), (0, 48), (30, 8), (30, 48), (60, 8), (60, 48) },
            grid.Positions.Select(p => (p.Top, p.Left))
        );

        // Rows: starts 30, 60 and ends 40, 70 (0 and 100 are image edges); columns: starts 8, 48, ends 40 (80 is the
        // edge).
        Assert.Equal(new[] { 30, 40, 60, 70 }, grid.InternalBorders(vertical: true));
        Assert.Equal(new[] { 8, 40, 48 }, grid.InternalBorders(vertical: false));
        Assert.Equal(new Size2D(30, 32), grid.Stride);
        Assert.True(grid.CoversExactly);
    }

    [Fact]
    public void ARegularGridHasTheStartsOfItsStride()
    {
        var grid = TileGrid.Create((100, 100), (40, 40), (30, 30));
        Assert.True(grid.IsRegular);
        Assert.Equal(new[] { 0, 30, 60 }, grid.RowStarts);
        Assert.Equal(
            grid.InternalBorders(true),
            TileGrid.FromStarts((100, 100), (40, 40), new[] { 0, 30, 60 }, new[] { 0, 30, 60 }).InternalBorders(true)
        );
    }

    [Theory]
    [InlineData(new int[0], "empty")]
    [InlineData(new[] { 0, 0 }, "increase strictly")]
    [InlineData(new[] { 10, 5 }, "increase strictly")]
    [InlineData(new[] { -1 }, "rowStarts[0] is -1")]
    [InlineData(new[] { 0, 61 }, "rowStarts[1] is 61")]
    public void BadStartsAreRefusedNamingTheEntry(int[] rows, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            TileGrid.FromStarts((100, 100), (40, 40), rows, new[] { 0 })
        );
        Assert.Contains(expected, error.Message);
        Assert.Equal("rowStarts", error.ParamName);
    }
}
