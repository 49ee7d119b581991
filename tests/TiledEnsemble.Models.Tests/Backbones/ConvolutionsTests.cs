using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Tests.Backbones;

public class ConvolutionsTests
{
    [Theory]
    [InlineData(1, true, false)]
    [InlineData(2, true, true)]
    [InlineData(2, false, false)]
    [InlineData(1, false, true)]
    public void OneByOneConvolutionsAreMatrixProductsEqualToTheFloat64Convolution(
        long stride,
        bool channelsLast,
        bool bias
    )
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var input = randn(new long[] { 3, 24, 9, 11 }, generator: generator);
        if (channelsLast)
        {
            input = input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        }

        var weight = randn(new long[] { 40, 24, 1, 1 }, generator: generator);
        var b = bias ? randn(new long[] { 40 }, generator: generator) : null;
        var actual = Convolutions.Apply(
            input,
            weight,
            b,
            new[] { stride, stride },
            new[] { 0L, 0L },
            new[] { 1L, 1L },
            1
        );
        var expected = F.conv2d(
            input.to(ScalarType.Float64),
            weight.to(ScalarType.Float64),
            b?.to(ScalarType.Float64),
            new[] { stride },
            new[] { 0L }
        );
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.permute(0, 2, 3, 1).is_contiguous(), "1×1 results are channels-last");
        Assert.True((actual.to(ScalarType.Float64) - expected).abs().max().item<double>() < 1e-4);
    }

    [Fact]
    public void GradientsThroughTheMatrixProductEqualThoseOfTheConvolution()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(8);
        var weight = randn(new long[] { 6, 4, 1, 1 }, generator: generator).to(ScalarType.Float64).requires_grad_();
        var input = randn(new long[] { 2, 4, 5, 5 }, generator: generator).to(ScalarType.Float64).requires_grad_();
        Convolutions
            .Apply(input, weight, null, new[] { 2L, 2L }, new[] { 0L, 0L }, new[] { 1L, 1L }, 1)
            .pow(TestTensors.Scalar(2))
            .sum()
            .backward();
        var (gradWeight, gradInput) = (weight.grad!.clone(), input.grad!.clone());
        weight.grad!.zero_();
        input.grad!.zero_();
        F.conv2d(input, weight, null, new[] { 2L }, new[] { 0L }).pow(TestTensors.Scalar(2)).sum().backward();
        Assert.True(gradWeight.allclose(weight.grad!, 1e-12, 1e-12));
        Assert.True(gradInput.allclose(input.grad!, 1e-12, 1e-12));
    }

    [Fact]
    public void SelectedOutputChannelsOfAOneByOneConvolutionAreThoseRowsOfTheFullOne()
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(16, 32, 1, bias: true);
        var input = TestTensors.Randn(new long[] { 2, 16, 6, 6 }, 2);
        var channels = tensor(new long[] { 31, 0, 5 });
        var selected = Convolutions.Forward(conv, input, channels);
        var full = Convolutions.Forward(conv, input);
        Assert.True((selected - full.index_select(1, channels)).abs().max().item<float>() < 1e-5f);
        Assert.True((full - conv.forward(input)).abs().max().item<float>() < 1e-4f);
        Assert.DoesNotContain(conv.parameters(), p => p.grad is not null);
    }
}
