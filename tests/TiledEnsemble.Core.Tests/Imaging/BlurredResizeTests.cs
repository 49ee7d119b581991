using System;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Imaging;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Tests.Imaging;

public class BlurredResizeTests
{
    [Theory]
    [InlineData(InterpolationMode.Bilinear, false, 32, 32, 128, 128, 4.0)] // Padim's tile maps
    [InlineData(InterpolationMode.Nearest, null, 16, 16, 128, 128, 4.0)] // Patchcore's tile maps
    [InlineData(InterpolationMode.Bilinear, true, 7, 9, 40, 52, 2.0)] // not square, aligned corners
    [InlineData(InterpolationMode.Bilinear, false, 12, 10, 12, 10, 1.0)] // blur only
    [InlineData(InterpolationMode.Nearest, null, 3, 3, 9, 9, 4.0)] // smaller than half the kernel: replicate padding
    [InlineData(InterpolationMode.Bilinear, false, 4, 30, 8, 60, 2.0)] // one side too small: replicate on both
    public void EqualsInterpolatingThenBlurring(
        InterpolationMode mode,
        bool? alignCorners,
        int h,
        int w,
        int height,
        int width,
        double sigma
    )
    {
        using var scope = NewDisposeScope();
        var maps = TestTensors.Rand(new long[] { 3, 2, h, w }, 11);
        var expected = GaussianBlur.Apply(
            F.interpolate(maps, new long[] { height, width }, mode: mode, align_corners: alignCorners),
            sigma
        );
        using var resize = new BlurredResize(sigma, mode, alignCorners);
        var actual = resize.Apply(maps, height, width);
        TensorAssert.Close(expected, actual, 2e-6);
    }

    [Fact]
    public void SmallMapMatchesHandComputedValues()
    {
        using var scope = NewDisposeScope();

        // σ = 0.25: kernel [a, 1 − 2a, a] with a = e⁻⁸ / (1 + 2e⁻⁸), padding 1. One row is too small to
        // reflect, so both axes replicate their edges. Nearest [0, 1] → [0, 0, 1, 1], blurred: [0, a, 1 − a, 1].
        double a = Math.Exp(-8) / (1 + (2 * Math.Exp(-8)));
        var map = tensor(new float[] { 0, 1 }).reshape(1, 1, 1, 2);
        using var resize = new BlurredResize(0.25, InterpolationMode.Nearest);
        var values = TensorAssert.Values(resize.Apply(map, 1, 4));
        var expected = new[] { 0, a, 1 - a, 1 };
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], values[i], 1e-7);
        }
    }

    [Fact]
    public void ConstantMapsStayConstant()
    {
        using var scope = NewDisposeScope();
        var maps = TestTensors.Full(new long[] { 2, 1, 32, 32 }, 3.5);
        using var resize = new BlurredResize(4, InterpolationMode.Bilinear);
        var result = resize.Apply(maps, 128, 96);
        TensorAssert.Close(TestTensors.Full(new long[] { 2, 1, 128, 96 }, 3.5), result, 2e-6);
    }

    [Fact]
    public void OneInstanceServesSeveralSizesAndThreads()
    {
        using var scope = NewDisposeScope();
        using var resize = new BlurredResize(2, InterpolationMode.Bilinear);
        var small = TestTensors.Rand(new long[] { 1, 1, 8, 8 }, 3);
        var large = TestTensors.Rand(new long[] { 1, 1, 16, 12 }, 4);
        var expectedSmall = GaussianBlur.Apply(
            F.interpolate(small, new long[] { 32, 32 }, mode: InterpolationMode.Bilinear, align_corners: false),
            2
        );
        var expectedLarge = GaussianBlur.Apply(
            F.interpolate(large, new long[] { 64, 48 }, mode: InterpolationMode.Bilinear, align_corners: false),
            2
        );
        var results = new Tensor[16];
        Parallel.For(0, results.Length, i =>
        {
            results[i] =
                i % 2 == 0
                    ? resize.Apply(small, 32, 32).DetachFromDisposeScope()
                    : resize.Apply(large, 64, 48).DetachFromDisposeScope();
        });
        for (int i = 0; i < results.Length; i++)
        {
            using var result = results[i];
            TensorAssert.Close(i % 2 == 0 ? expectedSmall : expectedLarge, result, 2e-6);
        }
    }

    [Fact]
    public void RefusesBadInput()
    {
        using var scope = NewDisposeScope();
        Assert.Contains(
            "mode",
            Assert.Throws<ArgumentException>(() => new BlurredResize(2, InterpolationMode.Bicubic)).Message
        );
        Assert.Contains(
            "sigma",
            Assert.Throws<ArgumentException>(() => new BlurredResize(0, InterpolationMode.Nearest)).Message
        );
        using var resize = new BlurredResize(2, InterpolationMode.Nearest);
        Assert.Contains("maps", Assert.Throws<ArgumentException>(() => resize.Apply(zeros(4, 4), 8, 8)).Message);
        Assert.Contains(
            "maps",
            Assert
                .Throws<ArgumentException>(() => resize.Apply(zeros(new long[] { 1, 1, 4, 4 }, ScalarType.Int64), 8, 8))
                .Message
        );
        Assert.Contains("0x8", Assert.Throws<ArgumentException>(() => resize.Apply(zeros(1, 1, 4, 4), 0, 8)).Message);
    }
}
