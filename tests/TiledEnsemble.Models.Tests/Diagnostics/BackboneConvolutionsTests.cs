using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Diagnostics;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Diagnostics;

public class BackboneConvolutionsTests
{
    [Fact]
    public void ResNet18AtAHundredPixelsHasTheShapesWorkedOutByHand()
    {
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        var shapes = BackboneConvolutions.For(backbone, 100, 100, 4);
        ConvolutionShape Named(string module) => shapes.Single(s => s.Modules.Contains(module));

        // Stem: (100 + 6 − 7) / 2 + 1 = 50; max-pool: (50 + 2 − 3) / 2 + 1 = 25; then 13, 7, 4 after each stride 2.
        Assert.Equal((3L, 64L, 7L, 2L, 3L, 100L), Describe(Named("conv1")));
        Assert.Equal((64L, 64L, 3L, 1L, 1L, 25L), Describe(Named("layer1.1.conv2")));
        Assert.Equal((64L, 128L, 3L, 2L, 1L, 25L), Describe(Named("layer2.0.conv1")));
        Assert.Equal((64L, 128L, 1L, 2L, 0L, 25L), Describe(Named("layer2.0.downsample.0")));
        Assert.Equal((128L, 128L, 3L, 1L, 1L, 13L), Describe(Named("layer2.0.conv2")));
        Assert.Equal((256L, 512L, 1L, 2L, 0L, 7L), Describe(Named("layer4.0.downsample.0")));
        Assert.Equal((512L, 512L, 3L, 1L, 1L, 4L), Describe(Named("layer4.1.conv1")));

        // Equal shapes are merged: layer1's four 3×3 convolutions are one.
        Assert.Equal(
            new[] { "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2" },
            Named("layer1.0.conv1").Modules
        );
        Assert.Equal(20, shapes.Sum(s => s.Modules.Count));
        Assert.Equal(11, shapes.Count);
    }

    [Theory]
    [InlineData(BackboneKind.ResNet18, 100)]
    [InlineData(BackboneKind.WideResNet50, 72)]
    public void TheWalkAgreesWithTheForwardPassOnEveryLayersOutputSize(BackboneKind kind, int size)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(kind, 1);
        var features = backbone.Features(zeros(1, 3, size, size), new[] { "layer1", "layer2", "layer3", "layer4" });
        var shapes = BackboneConvolutions.For(backbone, size, size, 4);
        for (int layer = 1; layer <= 4; layer++)
        {
            // The last convolution of a layer's last block produces the layer's output.
            var last = shapes.Single(s => s.Modules.Contains(LastConvolution(kind, layer)));
            Assert.Equal(features[layer - 1].shape[2], last.OutputHeight);
            Assert.Equal(features[layer - 1].shape[3], last.OutputWidth);
            Assert.Equal(features[layer - 1].shape[1], last.OutChannels);
        }

        Assert.Equal(kind == BackboneKind.ResNet18 ? 20 : 53, shapes.Sum(s => s.Modules.Count));
        Assert.DoesNotContain(BackboneConvolutions.For(backbone, size, size, 3), s =>
            s.Modules.Any(m => m.StartsWith("layer4"))
        );
    }

    private static string LastConvolution(BackboneKind kind, int layer) =>
        kind == BackboneKind.ResNet18
            ? $"layer{layer}.1.conv2"
            : $"layer{layer}.{new[] { 3, 4, 6, 3 }[layer - 1] - 1}.conv3";

    private static (long, long, long, long, long, long) Describe(ConvolutionShape s) =>
        (s.InChannels, s.OutChannels, s.Kernel, s.Stride, s.Padding, s.InputHeight);
}
