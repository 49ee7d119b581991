using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Tests.Backbones;

public class PoolingTests
{
    [Theory]
    [InlineData(4, 64, 64, 64, 3, 2, 1)] // ResNet's stem at 128² tiles
    [InlineData(2, 5, 9, 7, 3, 2, 1)] // odd sizes
    [InlineData(1, 3, 6, 10, 2, 2, 0)]
    public void MaxPoolIsBitIdenticalToLibtorchsIncludingTheGradient(
        int b,
        int c,
        int h,
        int w,
        int kernel,
        int stride,
        int padding
    )
    {
        using var scope = NewDisposeScope();
        var input = TestTensors.Randn(new long[] { b, c, h, w }, 21).requires_grad_(true);
        var expected = F.max_pool2d(input, kernel, stride, padding);
        var expectedGrad = autograd.grad(new[] { expected.sum() }, new[] { input })[0];
        var actual = Pooling.MaxPool(input, kernel, stride, padding);
        var actualGrad = autograd.grad(new[] { actual.sum() }, new[] { input })[0];
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(
            actual.permute(0, 2, 3, 1).is_contiguous(),
            "the result keeps channels-last strides for the next layer"
        );
        Assert.True(expected.eq(actual).all().item<bool>());
        Assert.True(expectedGrad.eq(actualGrad).all().item<bool>());
    }

    [Theory]
    [InlineData(4, 128, 16, 16)] // Patchcore's layer2 at 128² tiles
    [InlineData(4, 256, 8, 8)]
    [InlineData(2, 3, 7, 5)]
    public void ChannelsLastPoolingAndUpsamplingAreBitIdentical(int b, int c, int h, int w)
    {
        using var scope = NewDisposeScope();
        var input = TestTensors.Randn(new long[] { b, c, h, w }, 22);
        var channelsLast = Pooling.ChannelsLastOnCpu(input);
        Assert.True(channelsLast.permute(0, 2, 3, 1).is_contiguous());
        var size = new long[] { (2 * h) + 1, 2 * w };
        var expected = F.interpolate(
            F.avg_pool2d(input, 3, 1, 1),
            size,
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
        var actual = F.interpolate(
            F.avg_pool2d(channelsLast, 3, 1, 1),
            size,
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>());
    }
}
