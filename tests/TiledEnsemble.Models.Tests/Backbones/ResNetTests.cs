using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Backbones;

public class ResNetTests
{
    [Theory]
    [InlineData(BackboneKind.ResNet18, 11_176_512L)] // torchvision's 11,689,512 minus fc (512·1000 + 1000)
    [InlineData(BackboneKind.WideResNet50, 66_834_240L)] // torchvision's 68,883,240 minus fc (2048·1000 + 1000)
    public void ParameterCountMatchesTorchvisionWithoutTheClassifier(BackboneKind kind, long expected)
    {
        using var model = ResNet.Create(kind, 1);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void InferenceInChunksEqualsOnePassAndTrainingPassesAreNotCut()
    {
        using var scope = NewDisposeScope();
        using var model = ResNet.Create(BackboneKind.ResNet18, 3);
        var input = TestTensors.Rand(new long[] { 5, 3, 64, 64 }, 4);

        // The stem's output is 64·32·32 floats = 256 KiB per image: 512 KiB chunks are 2, 2 and 1 images.
        const long chunkBytes = 512 << 10;
        using (no_grad())
        {
            Assert.Equal(2, model.ImagesPerChunk(input, chunkBytes));
            Assert.Equal(long.MaxValue, model.ImagesPerChunk(input, 0));
            var layers = new[] { "layer1", "layer3" };
            var whole = model.Features(input, layers, null, 0);
            var chunked = model.Features(input, layers, null, chunkBytes);
            for (int l = 0; l < layers.Length; l++)
            {
                Assert.Equal(whole[l].shape, chunked[l].shape);
                double worst = whole[l].sub(chunked[l]).abs().max().item<float>();
                Assert.True(worst <= 1e-5 * whole[l].abs().max().item<float>(), $"{layers[l]} differs by {worst}");
            }
        }

        // With gradients on (a student that learns), batch statistics and autograd need the whole batch.
        Assert.True(is_grad_enabled());
        Assert.Equal(long.MaxValue, model.ImagesPerChunk(input, chunkBytes));
    }

    [Fact]
    public void NamesAndShapesMatchTorchvision()
    {
        using var r18 = ResNet.Create(BackboneKind.ResNet18, 1);
        var parameters = r18.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        var buffers = r18.named_buffers().Select(b => b.name).ToHashSet();
        Assert.Equal(new long[] { 64, 3, 7, 7 }, parameters["conv1.weight"]);
        Assert.Equal(new long[] { 256, 128, 3, 3 }, parameters["layer3.0.conv1.weight"]);
        Assert.Equal(new long[] { 128, 64, 1, 1 }, parameters["layer2.0.downsample.0.weight"]);
        Assert.Equal(new long[] { 512 }, parameters["layer4.1.bn2.bias"]);
        Assert.Contains("bn1.running_mean", buffers);
        Assert.Contains("layer1.0.bn1.running_var", buffers);
        Assert.DoesNotContain(parameters.Keys, k => k.StartsWith("fc."));

        using var wrn = ResNet.Create(BackboneKind.WideResNet50, 1);
        var wide = wrn.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 128, 64, 1, 1 }, wide["layer1.0.conv1.weight"]);
        Assert.Equal(new long[] { 256, 128, 1, 1 }, wide["layer1.0.conv3.weight"]);
        Assert.Equal(new long[] { 1024, 512, 1, 1 }, wide["layer3.0.downsample.0.weight"]);
    }

    [Fact]
    public void FeaturesHaveTheExpectedShapesAndStopAtTheDeepestLayer()
    {
        using var scope = NewDisposeScope();
        using var model = ResNet.Create(BackboneKind.ResNet18, 3);
        var input = rand(2, 3, 64, 64);
        var features = model.Features(input, new[] { "layer3", "layer1", "layer2" });
        Assert.Equal(new long[] { 2, 256, 4, 4 }, features[0].shape);
        Assert.Equal(new long[] { 2, 64, 16, 16 }, features[1].shape);
        Assert.Equal(new long[] { 2, 128, 8, 8 }, features[2].shape);
        Assert.DoesNotContain(model.parameters(), p => p.requires_grad);
    }

    [Fact]
    public void OnTheCpuFeaturesComeChannelsLastAndEqualTheDefaultLayoutComposition()
    {
        using var scope = NewDisposeScope();
        using var model = ResNet.Create(BackboneKind.ResNet18, 3);
        using var inference = inference_mode();
        var input = TestTensors.Randn(new long[] { 3, 3, 64, 48 }, 4);
        var features = model.Features(input, new[] { "layer1", "layer2", "layer3" });

        // Reference: the same modules, run one after another on contiguous (channels-first) tensors.
        var modules = model.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        var x = nn.functional.relu(modules["bn1"].forward(modules["conv1"].forward(input)));
        x = nn.functional.max_pool2d(x, 3, 2, 1);
        foreach (var (name, actual) in new[] { "layer1", "layer2", "layer3" }.Zip(features))
        {
            x = modules[name].forward(x.contiguous());
            Assert.True(actual.permute(0, 2, 3, 1).is_contiguous(), $"{name} is not channels-last");
            Assert.Equal(x.shape, actual.shape);
            var difference = (x - actual).abs().max().item<float>();
            Assert.True(
                difference <= 1e-5f * (1 + x.abs().max().item<float>()),
                $"{name}: largest difference {difference}"
            );
        }
    }

    [Fact]
    public void SeededInitialisationIsDeterministic()
    {
        using var scope = NewDisposeScope();
        using var a = ResNet.Create(BackboneKind.ResNet18, 5);
        using var b = ResNet.Create(BackboneKind.ResNet18, 5);
        using var c = ResNet.Create(BackboneKind.ResNet18, 6);
        var input = TestTensors.Rand(new long[] { 1, 3, 32, 32 }, 1);
        Assert.True(a.forward(input).eq(b.forward(input)).all().item<bool>());
        Assert.False(a.forward(input).eq(c.forward(input)).all().item<bool>());
    }

    [Theory]
    [InlineData(BackboneKind.ResNet18, "layer3")]
    [InlineData(BackboneKind.ResNet18, "layer2")]
    [InlineData(BackboneKind.WideResNet50, "layer3")]
    public void SelectedChannelsOfTheDeepestLayerEqualTheFullForwardThenSelecting(BackboneKind kind, string deepest)
    {
        using var scope = NewDisposeScope();
        using var model = ResNet.Create(kind, 3);
        using var generator = new Generator(11);
        using (no_grad())
        {
            // Batch norms with non-trivial statistics and affine parameters, so the per-channel arithmetic is
            // exercised.
            foreach (
                var (name, tensor) in model
                    .named_buffers()
                    .Concat(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)))
            )
            {
                if (name.Contains("bn") || name.Contains("downsample.1"))
                {
                    if (name.EndsWith("running_var") || name.EndsWith("weight"))
                    {
                        tensor.copy_(
                            rand(tensor.shape, generator: generator).add_(TestTensors.Scalar(0.5), TestTensors.One)
                        );
                    }
                    else if (name.EndsWith("running_mean") || name.EndsWith("bias"))
                    {
                        tensor.copy_(randn(tensor.shape, generator: generator).mul_(TestTensors.Scalar(0.1)));
                    }
                }
            }
        }

        var input = randn(new long[] { 2, 3, 64, 64 }, generator: generator);
        var layers = new[] { "layer1", deepest };
        var full = model.Features(input, layers);
        var channels = tensor(new long[] { 5, 0, 17, 63, 9 });
        var selected = model.Features(input, layers, channels);
        Assert.True(full[0].eq(selected[0]).all().item<bool>());
        var expected = full[1].index_select(1, channels);
        Assert.Equal(expected.shape, selected[1].shape);
        var difference = (expected - selected[1]).abs().max().item<float>();
        Assert.True(difference <= 1e-4f * (1 + expected.abs().max().item<float>()), $"largest difference {difference}");
    }
}
