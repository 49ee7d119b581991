using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Pretrained;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;

namespace TiledEnsemble.Models.Tests.Pretrained;

/// <summary>The converted ImageNet ResNet-18 against the original ONNX graph, run by ONNX Runtime.</summary>
public sealed class CntkResNet18Tests : IDisposable
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
    private static readonly string Model = Path.Combine(Folder, "ResNet18Onnx", "ResNet18.onnx");
    private static readonly string Preprocess = Path.Combine(Folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
    private static readonly string[] Layers = { "layer1", "layer2", "layer3" };
    private readonly string _temporary = Directory.CreateTempSubdirectory("cntk-").FullName;
    private readonly ITestOutputHelper _output;

    public CntkResNet18Tests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_temporary, recursive: true);

    [Fact]
    public void RawWeightsGiveTheOriginalGraphsFeaturesOnRealLookingImages()
    {
        using var scope = NewDisposeScope();
        var raw = CntkResNet18.Convert(Model, Preprocess, "0.23.1", foldPreprocessing: false);
        using var backbone = Load(raw);
        var rgb = Textures(2);

        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var preprocess = new InferenceSession(Preprocess, options);
        using var graph = new InferenceSession(
            OnnxModelEditing.WithOutputs(File.ReadAllBytes(Model), Layers.Select(l => raw.LayerOutputs[l])),
            options
        );
        for (int image = 0; image < rgb.shape[0]; image++)
        {
            // The original convention: 0–255 RGB into the preprocessing graph (BGR minus the mean image), then the
            // network.
            var scaled = rgb[image].unsqueeze(0).mul(TestTensors.Scalar(255)).contiguous();
            var prepared = Run(
                preprocess,
                preprocess.InputMetadata.Keys.Single(),
                scaled,
                preprocess.OutputMetadata.Keys.Single()
            )[0];
            var expected = Run(
                graph,
                graph.InputMetadata.Keys.Single(),
                prepared,
                Layers.Select(l => raw.LayerOutputs[l]).ToArray()
            );
            Tensor[] actual;
            using (inference_mode())
            {
                actual = backbone.Features(prepared, Layers);
            }

            for (int layer = 0; layer < Layers.Length; layer++)
            {
                Assert.Equal(expected[layer].shape, actual[layer].shape);
                double largest = expected[layer].abs().max().item<float>();
                double difference = (expected[layer] - actual[layer]).abs().max().item<float>();
                _output.WriteLine(
                    $"image {image}, {Layers[layer]}: largest |difference| {difference:G3} of values up to {largest:G3}"
                );
                Assert.True(
                    difference <= 1e-4 * largest,
                    $"{Layers[layer]}: {difference} against values up to {largest}"
                );
            }
        }
    }

    [Fact]
    public void FoldedWeightsOnNormalizedRgbEqualRawWeightsOnBgrMinusTheChannelMeans()
    {
        using var scope = NewDisposeScope();
        var raw = CntkResNet18.Convert(Model, Preprocess, "0.23.1", foldPreprocessing: false);
        var folded = CntkResNet18.Convert(Model, Preprocess, "0.23.1");
        Assert.All(raw.Tensors.Where(t => t.Key is not ("conv1.weight" or "bn1.running_mean")), t =>
            Assert.Equal(t.Value.Data, folded.Tensors[t.Key].Data)
        );
        using var rawBackbone = Load(raw);
        using var foldedBackbone = Load(folded);
        var rgb = Textures(3);

        // The channel means the fold uses: of the preprocessing graph's mean image, B, G, R.
        var meanImage = OnnxGraph.Read(Preprocess).Initializers.Values.Single();
        long plane = meanImage.Dims[2] * meanImage.Dims[3];
        var means = Enumerable
            .Range(0, 3)
            .Select(c => meanImage.Data.Skip((int)(c * plane)).Take((int)plane).Average(v => (double)v))
            .ToArray();
        var bgr =
            rgb.flip(1).mul(TestTensors.Scalar(255))
            - tensor(means.Select(m => (float)m).ToArray()).reshape(1, 3, 1, 1);
        var normalized =
            (rgb - tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1))
            / tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
        using var inference = inference_mode();
        var expected = rawBackbone.Features(bgr, Layers);
        var actual = foldedBackbone.Features(normalized, Layers);
        for (int layer = 0; layer < Layers.Length; layer++)
        {
            // The same arithmetic but for the zero padding around the image (0 in the source's units is 0.5 grey
            // levels away from 0 in normalized units) and float rounding: a small relative difference.
            double relative =
                ((expected[layer] - actual[layer]).norm().item<float>()) / expected[layer].norm().item<float>();
            _output.WriteLine($"{Layers[layer]}: relative L2 difference {relative:P3}");
            Assert.True(relative < 0.005, $"{Layers[layer]}: {relative:P3}");
        }

        // Away from the border, the stem's output is the same to rounding.
        var stemRaw = nn.functional.conv2d(bgr, Weight(raw, "conv1.weight"), null, new[] { 2L }, new[] { 3L });
        var stemFolded = nn.functional.conv2d(
            normalized,
            Weight(folded, "conv1.weight"),
            null,
            new[] { 2L },
            new[] { 3L }
        );
        var offset = tensor(raw.Tensors["bn1.running_mean"].Data)
            .sub(tensor(folded.Tensors["bn1.running_mean"].Data))
            .reshape(1, -1, 1, 1);
        var interior = (stemRaw - stemFolded - offset)
            .narrow(2, 2, stemRaw.shape[2] - 4)
            .narrow(3, 2, stemRaw.shape[3] - 4);
        Assert.True(interior.abs().max().item<float>() <= 1e-3 * stemRaw.abs().max().item<float>());
    }

    [Theory]
    [InlineData("MaxPool", "AvgPool", "MaxPool")]
    [InlineData("Relu", "Tanh", "Relu")]
    public void AGraphThatDiffersIsRefusedNamingTheNode(string op, string replacement, string expected)
    {
        var bytes = File.ReadAllBytes(Model);
        var pattern = Encoding.ASCII.GetBytes(op);
        int at = bytes.AsSpan().IndexOf(pattern);
        Assert.True(at > 0);
        Encoding.ASCII.GetBytes(replacement).CopyTo(bytes, at);
        var modified = Path.Combine(_temporary, "modified.onnx");
        File.WriteAllBytes(modified, bytes);

        var error = Assert.Throws<InvalidDataException>(() => CntkResNet18.Convert(modified, Preprocess, "0.23.1"));
        Assert.Contains("modified.onnx", error.Message);
        Assert.Contains($"one {expected} node", error.Message);
        Assert.Contains($"({replacement})", error.Message);
    }

    [Fact]
    public void AFileThatIsNotAGraphIsRefusedByName()
    {
        var path = Path.Combine(_temporary, "text.onnx");
        File.WriteAllText(path, "not a model");
        var error = Assert.Throws<InvalidDataException>(() => CntkResNet18.Convert(path, Preprocess, "0.23.1"));
        Assert.Contains("text.onnx", error.Message);
    }

    [Fact]
    public void TheShippedFileHoldsTheFoldedConversionAndItsProvenance()
    {
        var shipped = PretrainedBackbones.Find(BackboneKind.ResNet18);
        Assert.NotNull(shipped);
        var folded = CntkResNet18.Convert(Model, Preprocess, "0.23.1");
        var (tensors, metadata) = TiledEnsemble.Serialization.SafeTensors.Load(shipped!);
        Assert.Equal(folded.Tensors.Keys.OrderBy(k => k), tensors.Keys.OrderBy(k => k));
        Assert.All(folded.Tensors, t => Assert.Equal(t.Value.Data, tensors[t.Key].data<float>().ToArray()));
        Assert.Equal(folded.Provenance["source_sha256"], metadata["source_sha256"]);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", metadata["source"]);
        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }
    }

    private ResNet Load(ConvertedBackbone converted)
    {
        var path = Path.Combine(_temporary, $"{Guid.NewGuid():N}.safetensors");
        converted.Save(path);
        var backbone = BackboneWeights.Load(BackboneKind.ResNet18, path, out _);
        Assert.Equal(3, backbone.Depth);
        return backbone;
    }

    private static Tensor Weight(ConvertedBackbone converted, string name)
    {
        using var scope = NewDisposeScope();
        return tensor(converted.Tensors[name].Data).reshape(converted.Tensors[name].Shape).MoveToOuterDisposeScope();
    }

    /// <summary>Generated fabric and leather-like textures with defects at 224², RGB in [0, 1].</summary>
    private static Tensor Textures(int count)
    {
        var options = new DefectDatasetOptions { ImageSize = 224, Seed = 4 };
        return stack(
            Enumerable
                .Range(0, count)
                .Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, i).Defective)
                .ToArray()
        );
    }

    private static Tensor[] Run(InferenceSession session, string input, Tensor value, params string[] outputs)
    {
        using var scope = NewDisposeScope();
        var data = value.contiguous().data<float>().ToArray();
        var dense = new DenseTensor(data, value.shape.Select(d => (int)d).ToArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, dense) }, outputs);
        return outputs
            .Select(name =>
            {
                var result = results.Single(r => r.Name == name).AsTensor<float>();
                return tensor(result.ToArray(), result.Dimensions.ToArray().Select(d => (long)d).ToArray())
                    .MoveToOuterDisposeScope();
            })
            .ToArray();
    }
}
