using System;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Tiling;

public class EnsembleTilerTests
{
    [Fact]
    public void TilesAreGroupedByPositionPixelByPixel()
    {
        using var scope = NewDisposeScope();
        var images = TestTensors.Rand(new long[] { 3, 2, 64, 80 }, 5);
        var tiler = new EnsembleTiler(32, 16, (64, 80));
        var tiles = tiler.Tile(images);
        TensorAssert.Shape(tiles, 3, 4, 3, 2, 32, 32);
        foreach (var p in tiler.TilePositions)
        {
            TensorAssert.BitEqual(images[.., .., p.Top..(p.Top + 32), p.Left..(p.Left + 32)], tiles[p.Row, p.Column]);
        }
    }

    [Theory]
    [InlineData(64, 64, 32, 32)]
    [InlineData(64, 64, 32, 16)]
    [InlineData(75, 61, 32, 16)]
    public void RoundTripIsExact(int height, int width, int tile, int stride)
    {
        using var scope = NewDisposeScope();
        var images = TestTensors.Rand(new long[] { 2, 3, height, width }, 9);
        var tiler = new EnsembleTiler(tile, stride, (height, width));
        TensorAssert.BitEqual(images, tiler.Untile(tiler.Tile(images)));
    }

    [Theory]
    [InlineData(64, 80, 32, 16)]
    [InlineData(75, 61, 32, 16)]
    [InlineData(40, 40, 32, 32)]
    public void TileAtEqualsTheSameSliceOfTile(int height, int width, int tile, int stride)
    {
        using var scope = NewDisposeScope();
        var images = TestTensors.Rand(new long[] { 2, 3, height, width }, 13);
        var tiler = new EnsembleTiler(tile, stride, (height, width));
        var all = tiler.Tile(images);
        foreach (var p in tiler.TilePositions)
        {
            TensorAssert.BitEqual(all[p.Row, p.Column], tiler.TileAt(images, p));
        }

        Assert.Throws<ArgumentException>(() => tiler.TileAt(images, new TilePosition(9, 0, 0, 0)));
    }

    [Fact]
    public void PaddedTilesHoldZerosBeyondTheImage()
    {
        using var scope = NewDisposeScope();
        var images = ones(1, 1, 40, 40);
        var tiles = new EnsembleTiler(32, 32, 40).Tile(images);
        TensorAssert.Shape(tiles, 2, 2, 1, 1, 32, 32);
        Assert.Equal(8 * 32, tiles[1, 0].sum().item<float>());
        Assert.Equal(8 * 8, tiles[1, 1].sum().item<float>());
    }

    [Fact]
    public void UntileRejectsAWrongGrid()
    {
        using var scope = NewDisposeScope();
        var tiler = new EnsembleTiler(32, 16, 64);
        var error = Assert.Throws<ArgumentException>(() => tiler.Untile(zeros(new long[] { 2, 3, 1, 1, 32, 32 })));
        Assert.Contains("3x3", error.Message);
        Assert.Equal("tiles", error.ParamName);
        Assert.Throws<ArgumentException>(() => tiler.Untile(zeros(new long[] { 3, 3, 1, 32, 32 })));
        Assert.Throws<InvalidOperationException>(() => new EnsembleTiler(32, 16).TilePositions);
    }
}
