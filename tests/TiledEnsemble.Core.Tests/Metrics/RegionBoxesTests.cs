using System;
using System.Linq;
using TiledEnsemble.Metrics;
using Xunit;

namespace TiledEnsemble.Core.Tests.Metrics;

public class RegionBoxesTests
{
    [Fact]
    public void AnEmptyMaskHasNoBoxesAndOnePixelItsOwnBox()
    {
        var map = Enumerable.Range(0, 9 * 13).Select(i => (float)i).ToArray();
        Assert.Empty(RegionBoxes.FindInImage(new bool[9 * 13], map, 9, 13));

        var corner = new bool[9 * 13];
        corner[^1] = true;
        var box = Assert.Single(RegionBoxes.FindInImage(corner, map, 9, 13));
        Assert.Equal((12, 8, 13, 9, (double)map[^1]), box);
    }

    [Theory]
    [InlineData(1, 37, 53, 0.02)]
    [InlineData(2, 64, 48, 0.1)]
    [InlineData(3, 31, 31, 0.4)]
    [InlineData(4, 100, 90, 0.001)]
    [InlineData(5, 1, 200, 0.05)]
    public void BoxesInTheMasksRectangleAreThoseOfTheWholeImage(int seed, int height, int width, double fraction)
    {
        var random = new Random(seed);
        var mask = Enumerable.Range(0, height * width).Select(_ => random.NextDouble() < fraction).ToArray();
        var map = Enumerable.Range(0, height * width).Select(_ => (float)random.NextDouble()).ToArray();

        var whole = RegionBoxes.Find(mask, map, height, width).Order().ToArray();
        var windowed = RegionBoxes.FindInImage(mask, map, height, width).Order().ToArray();

        Assert.NotEmpty(whole);
        Assert.Equal(whole, windowed);
    }
}
