using System;
using System.Linq;
using TiledEnsemble.Imaging;
using TiledEnsemble.Joining;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Joining;

public class SeamSmootherTests
{
    [Fact]
    public void MaskCoversBandsAroundInternalBordersOnly()
    {
        using var scope = NewDisposeScope();

        // 128 px, tiles of 64, stride 32: borders at 32, 64, 96; half-width floor(64 * 0.1) = 6.
        var grid = TileGrid.Create(128, 64, 32);
        var mask = new SeamSmoother(2, 0.1).SeamMask(grid);
        TensorAssert.Shape(mask, 128, 128);
        bool InBand(int k) => (k >= 26 && k < 38) || (k >= 58 && k < 70) || (k >= 90 && k < 102);
        var values = mask.data<bool>().ToArray();
        for (int y = 0; y < 128; y++)
        {
            for (int x = 0; x < 128; x++)
            {
                Assert.True(values[(y * 128) + x] == (InBand(y) || InBand(x)), $"pixel ({y}, {x})");
            }
        }
    }

    [Fact]
    public void MaskStaysInsideTheImageForPaddedGrids()
    {
        using var scope = NewDisposeScope();

        // 100 px, tiles 64, stride 64: covering 128, the only internal border is 64 (128 lies outside).
        var grid = TileGrid.Create((100, 100), 64, 64);
        var rows = new SeamSmoother(2, 0.1).SeamMask(grid)[.., 0];
        var expected = Enumerable.Range(0, 100).Select(k => k >= 58 && k < 70).ToArray();
        Assert.Equal(expected, rows.data<bool>().ToArray());
    }

    [Theory]
    [InlineData(64, 16, 16, 0.1)]
    [InlineData(64, 24, 10, 0.25)]
    [InlineData(40, 32, 8, 0.5)]
    [InlineData(66, 32, 32, 0.1)] // the last band is cut short by the image edge: bands of unequal length
    [InlineData(128, 16, 16, 0.25)] // seven equal bands each way, blurred together
    public void BandwiseSmoothingIsBitIdenticalToBlurringTheWholeMap(int image, int tile, int stride, double width)
    {
        using var scope = NewDisposeScope();
        var grid = TileGrid.Create(image, tile, stride);
        var maps = TestTensors.Rand(new long[] { 2, 1, image, image }, 5);
        var smoother = new SeamSmoother(sigma: 2, width: width);
        var whole = where(smoother.SeamMask(grid), TiledEnsemble.Imaging.GaussianBlur.Apply(maps, 2), maps);
        Assert.True(smoother.Smooth(maps, grid).eq(whole).all().item<bool>());
    }

    [Fact]
    public void SmoothingChangesSeamPixelsToTheBlurAndLeavesOthersBitIdentical()
    {
        using var scope = NewDisposeScope();
        var grid = TileGrid.Create(48, 24, 12);
        var maps = TestTensors.Rand(new long[] { 2, 1, 48, 48 }, 11);
        var smoother = new SeamSmoother(sigma: 2, width: 0.25);
        var smoothed = smoother.Smooth(maps, grid);
        var mask = smoother.SeamMask(grid);
        var reference = NaiveBlur(maps, 2.0);
        var original = maps.data<float>().ToArray();
        var result = smoothed.data<float>().ToArray();
        var inSeam = mask.data<bool>().ToArray();
        int changed = 0;
        for (int i = 0; i < result.Length; i++)
        {
            int pixel = i % (48 * 48);
            if (inSeam[pixel])
            {
                Assert.True(
                    Math.Abs(result[i] - reference[i]) < 1e-5,
                    $"seam value {result[i]} vs reference blur {reference[i]} at {i}"
                );
                changed += result[i] != original[i] ? 1 : 0;
            }
            else
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(original[i]), BitConverter.SingleToInt32Bits(result[i]));
            }
        }

        Assert.True(changed > 0);
    }

    [Fact]
    public void GaussianKernelSizeFollowsTheFourSigmaRule()
    {
        Assert.Equal(17, GaussianBlur.KernelSize(2));
        Assert.Equal(33, GaussianBlur.KernelSize(4));
        Assert.Equal(9, GaussianBlur.KernelSize(1));
        Assert.Equal(1.0, GaussianBlur.Kernel1D(4).Sum(), 12);
    }

    [Fact]
    public void BlurOfMapsSmallerThanTheKernelDoesNotFail()
    {
        using var scope = NewDisposeScope();
        var small = TestTensors.Full(new long[] { 1, 1, 6, 6 }, 0.5f);
        TensorAssert.Close(small, GaussianBlur.Apply(small, 4), 1e-6);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => new SeamSmoother(0, 0.1));
        Assert.Throws<ArgumentException>(() => new SeamSmoother(2, 0));
        var error = Assert.Throws<ArgumentException>(() =>
            new SeamSmoother().Smooth(zeros(1, 1, 32, 32), TileGrid.Create(64, 32, 32))
        );
        Assert.Contains("32x32", error.Message);
        Assert.Throws<ArgumentException>(() => new SeamSmoother().Smooth(zeros(32, 32), TileGrid.Create(32, 16, 16)));
    }

    /// <summary>Direct 2-D convolution with the outer-product kernel and reflect padding, in doubles.</summary>
    private static float[] NaiveBlur(Tensor maps, double sigma)
    {
        int radius = (int)((4 * sigma) + 0.5);
        var g = Enumerable
            .Range(-radius, (2 * radius) + 1)
            .Select(x => Math.Exp(-(x * x) / (2 * sigma * sigma)))
            .ToArray();
        double total = g.Sum();
        g = g.Select(v => v / total).ToArray();
        long batch = maps.shape[0],
            h = maps.shape[2],
            w = maps.shape[3];
        var input = maps.data<float>().ToArray();
        var output = new float[input.Length];
        int Reflect(long i, long n) =>
            (int)(
                i < 0 ? -i
                : i >= n ? (2 * n) - 2 - i
                : i
            );
        for (long b = 0; b < batch; b++)
        {
            for (long y = 0; y < h; y++)
            {
                for (long x = 0; x < w; x++)
                {
                    double sum = 0;
                    for (int dy = -radius; dy <= radius; dy++)
                    {
                        for (int dx = -radius; dx <= radius; dx++)
                        {
                            sum +=
                                g[dy + radius]
                                * g[dx + radius]
                                * input[(b * h * w) + (Reflect(y + dy, h) * w) + Reflect(x + dx, w)];
                        }
                    }

                    output[(b * h * w) + (y * w) + x] = (float)sum;
                }
            }
        }

        return output;
    }
}
