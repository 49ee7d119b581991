using System;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Tiling;

public class TilerTests
{
    private static Tensor Images(long batch, long channels, long height, long width, int seed = 7) =>
        TestTensors.Rand(new[] { batch, channels, height, width }, (ulong)seed);

    [Theory]
    [InlineData(64, 64, 32, 32, 1)] // non-overlapping, exact cover
    [InlineData(64, 64, 32, 16, 2)] // overlapping, exact cover
    [InlineData(70, 50, 32, 16, 3)] // overlapping, padded
    [InlineData(70, 50, 32, 32, 2)] // non-overlapping, padded
    [InlineData(48, 96, 16, 8, 1)] // non-square image
    public void PaddingRoundTripIsExact(int height, int width, int tile, int stride, int batch)
    {
        using var scope = NewDisposeScope();
        var images = Images(batch, 3, height, width);
        var tiler = new Tiler(tile, stride, (height, width));
        TensorAssert.BitEqual(images, tiler.Untile(tiler.Tile(images)));
    }

    [Fact]
    public void InterpolationRoundTripIsExactWhenTheGridCovers()
    {
        using var scope = NewDisposeScope();
        var images = Images(2, 1, 64, 64);
        var tiler = new Tiler(32, 16, 64, TilingMode.Interpolation);
        TensorAssert.BitEqual(images, tiler.Untile(tiler.Tile(images)));
    }

    [Fact]
    public void InterpolationModeResizesToTheCoveringSizeAndBack()
    {
        using var scope = NewDisposeScope();

        // Bilinear resizing keeps a constant image constant and a smooth ramp nearly unchanged.
        var constant = TestTensors.Full(new long[] { 1, 1, 50, 70 }, 0.25f);
        var tiler = new Tiler(32, 16, (50, 70), TilingMode.Interpolation);
        var tiles = tiler.Tile(constant);
        Assert.Equal(3 * 4, tiles.shape[0]);
        TensorAssert.Close(constant, tiler.Untile(tiles), 1e-6);

        var ramp = linspace(0, 1, 70).reshape(1, 1, 1, 70).expand(1, 1, 50, 70).contiguous();
        TensorAssert.Close(ramp, tiler.Untile(tiler.Tile(ramp)), 0.02);
    }

    [Fact]
    public void TilesAreImageMajorThenRowMajorPixelByPixel()
    {
        using var scope = NewDisposeScope();
        var images = Images(2, 2, 40, 56);
        var tiler = new Tiler((16, 24), (12, 16));
        var tiles = tiler.Tile(images);
        var grid = tiler.GridFor((40, 56));
        Assert.Equal((3, 3), (grid.Rows, grid.Columns));
        var padded = nn.functional.pad(
            images,
            new long[] { 0, grid.CoveringSize.Width - 56, 0, grid.CoveringSize.Height - 40 }
        );
        for (int b = 0; b < 2; b++)
        {
            foreach (var p in grid.Positions)
            {
                var expected = padded[b, .., p.Top..(p.Top + 16), p.Left..(p.Left + 24)];
                TensorAssert.BitEqual(expected, tiles[(b * grid.Count) + (p.Row * grid.Columns) + p.Column]);
            }
        }
    }

    [Fact]
    public void OverlapsAreAveragedAsComputedByHand()
    {
        using var scope = NewDisposeScope();

        // 3x3 image, 2x2 tiles, stride 1: four tiles filled with 1, 2, 3 and 4.
        var tiles = cat(
            new[]
            {
                TestTensors.Full(new long[] { 1, 1, 2, 2 }, 1f),
                TestTensors.Full(new long[] { 1, 1, 2, 2 }, 2f),
                TestTensors.Full(new long[] { 1, 1, 2, 2 }, 3f),
                TestTensors.Full(new long[] { 1, 1, 2, 2 }, 4f),
            }
        );
        var joined = new Tiler(2, 1, 3).Untile(tiles);
        var expected = new float[] { 1.0f, 1.5f, 2.0f, 2.0f, 2.5f, 3.0f, 3.0f, 3.5f, 4.0f };
        Assert.Equal(expected, TensorAssert.Values(joined));
    }

    [Fact]
    public void RemovedBordersAreLeftOutOfTheAverage()
    {
        using var scope = NewDisposeScope();

        // 1x6 strip, tiles of 4 with stride 2 (two tiles), one border pixel removed from each tile edge.
        // Tile 0 (value 10) keeps column 1..2, tile 1 (value 20) keeps column 3..4; columns 0 and 5 are covered by no
        // kept pixel.
        var tiles = cat(
            new[] { TestTensors.Full(new long[] { 1, 1, 4, 4 }, 10f), TestTensors.Full(new long[] { 1, 1, 4, 4 }, 20f) }
        );
        var joined = new Tiler((4, 4), (2, 2), (4, 6), removeBorderCount: 1).Untile(tiles);
        Assert.Equal(new float[] { 0, 10, 10, 20, 20, 0 }, TensorAssert.Values(joined[0, 0, 1]));
    }

    [Fact]
    public void FeatureMapTilesAreJoinedAtTheirOwnScale()
    {
        using var scope = NewDisposeScope();
        var images = Images(1, 4, 64, 64);
        var tiler = new Tiler(32, 16, 64);
        var tiles = tiler.Tile(images);
        var quarter = nn.functional.avg_pool2d(tiles, 4);
        var joined = tiler.Untile(quarter);
        TensorAssert.Shape(joined, 1, 4, 16, 16);

        // Averaging 4x4 blocks commutes with tiling when the stride is a multiple of 4.
        TensorAssert.Close(nn.functional.avg_pool2d(images, 4), joined, 1e-6);
    }

    [Fact]
    public void ThreeDimensionalInputIsOneImage()
    {
        using var scope = NewDisposeScope();
        var image = Images(1, 3, 32, 32)[0];
        TensorAssert.Shape(new Tiler(16, 16).Tile(image), 4, 3, 16, 16);
    }

    [Fact]
    public void RandomTilesAreReproducibleAndInsideTheImage()
    {
        using var scope = NewDisposeScope();
        var images = TestTensors.Arange(2 * 40 * 40, ScalarType.Float32).reshape(2, 1, 40, 40);
        var tiler = new Tiler(8, 8);
        var first = tiler.RandomTiles(images, 5, seed: 3);
        var second = tiler.RandomTiles(images, 5, seed: 3);
        TensorAssert.Shape(first, 10, 1, 8, 8);
        TensorAssert.BitEqual(first, second);
        Assert.False(TensorAssert.Same(first, tiler.RandomTiles(images, 5, seed: 4)));

        // Every crop is a contiguous block of its own image: consecutive columns differ by 1, rows by 40.
        for (int k = 0; k < 10; k++)
        {
            var crop = first[k, 0];
            Assert.True(TensorAssert.Same(crop[.., 1..] - crop[.., ..^1], ones(8, 7)));
            Assert.True(TensorAssert.Same(crop[1..] - crop[..^1], TestTensors.Full(new long[] { 7, 8 }, 40f)));
            long imageIndex = (long)crop[0, 0].item<float>() / 1600;
            Assert.Equal(k / 5, imageIndex);
        }
    }

    [Fact]
    public void RepeatedRunsOnCpuAreBitIdentical()
    {
        using var scope = NewDisposeScope();
        var images = Images(2, 3, 70, 50);
        var tiler = new Tiler(32, 24, (70, 50));
        TensorAssert.BitEqual(
            tiler.Untile(tiler.Tile(images).mul(TestTensors.Scalar(0.5))),
            tiler.Untile(tiler.Tile(images).mul(TestTensors.Scalar(0.5)))
        );
    }

    [Fact]
    public void BadInputsGiveArgumentExceptionsNamingTheProblem()
    {
        using var scope = NewDisposeScope();
        var tiler = new Tiler(16, 8, 32);
        var wrongRank = Assert.Throws<ArgumentException>(() => tiler.Tile(zeros(32, 32)));
        Assert.Contains("rank", wrongRank.Message);
        var wrongSize = Assert.Throws<ArgumentException>(() => tiler.Tile(zeros(1, 1, 40, 32)));
        Assert.Contains("40x32", wrongSize.Message);
        var tooSmall = Assert.Throws<ArgumentException>(() => new Tiler(16, 8).Tile(zeros(1, 1, 8, 32)));
        Assert.Equal("tileSize", tooSmall.ParamName);
        var wrongCount = Assert.Throws<ArgumentException>(() => tiler.Untile(zeros(10, 1, 16, 16)));
        Assert.Contains("10 tiles", wrongCount.Message);
        Assert.Contains("9 positions", wrongCount.Message);
        Assert.Throws<ArgumentException>(() => tiler.Untile(zeros(9, 1, 16, 16, dtype: ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => new Tiler(16, 32));
        Assert.Throws<ArgumentException>(() => new Tiler(16, 8, removeBorderCount: 8));
        Assert.Throws<InvalidOperationException>(() => new Tiler(16, 8).Untile(zeros(9, 1, 16, 16)));
    }
}
