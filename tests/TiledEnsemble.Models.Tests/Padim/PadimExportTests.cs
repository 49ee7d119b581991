using System.Linq;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TiledEnsemble.Export;
using TiledEnsemble.Export.Onnx;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Testing;
using Xunit;
using static TiledEnsemble.Export.Onnx.TensorProto.Types;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace TiledEnsemble.Models.Tests.Padim;

public class PadimExportTests
{
    private static PadimOptions Small => PadimTests.Small;

    [Fact]
    public void TheExportedHeadMapsWhatPredictMapsWithAFeatureIndexInAnyOrder()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var fitted = new PadimModel(backbone, Small);
        fitted.Fit(TextureSet.Batches(TextureSet.Normals(4, 32), 2));
        using var state = fitted.ExportState();

        // A state whose index is not sorted (saved elsewhere, or by hand): its channels leave the layers grouped by
        // layer and must be put back in the index's order, or every position's statistics read the wrong channels.
        var shuffled = PadimTests.WithShuffledIndex(state);
        using var model = new PadimModel(backbone, Small);
        model.ImportState(shuffled);
        var index = shuffled.Tensors["feature_index"].data<long>().ToArray();
        Assert.False(index.SequenceEqual(index.Order()), "the test needs an unsorted index");

        var images = TextureSet.Defective(2, 32);
        using var expected = model.Predict(images);
        var actual = RunHead(model, backbone, ImageNet.Normalize(images, CPU));

        var reference = expected.AnomalyMaps.contiguous().data<float>().ToArray();
        Assert.Equal(reference.Length, actual.Length);
        float range = reference.Max() - reference.Min();
        float worst = reference.Zip(actual, (a, b) => System.Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-4f * range, $"maps differ by {worst} of a range of {range}");
    }

    private static float[] RunHead(PadimModel model, ResNet backbone, Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var g = new OnnxGraphBuilder();
        var tiles = g.Input("tiles", DataType.Float, "n", 3, 32, 32);
        var exportable = (IOnnxExportable)model;
        var features = backbone.ExportFeatures(g, tiles, exportable.ExportLayers, "backbone");
        var (maps, _) = exportable.ExportHead(g, tiles, features, 32, 32, "head");
        g.Output(maps, "maps", DataType.Float, "n", 1, 32, 32);
        var proto = g.ToModel("TiledEnsemble.Models.Tests");

        using var session = new InferenceSession(proto.ToByteArray());
        var input = new DenseTensor(
            normalized.contiguous().data<float>().ToArray(),
            normalized.shape.Select(d => (int)d).ToArray()
        );
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("tiles", input) });
        return results.First().AsEnumerable<float>().ToArray();
    }
}
