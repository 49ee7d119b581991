using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>
/// Converts the ImageNet-trained ResNet-18 that ML.NET ships in the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (MIT; an ONNX graph exported by CNTK 2.6) into the library's
/// ResNet-18, up to layer3.
/// </summary>
/// <remarks>
/// <para>Parameters are found by the graph's topology, not by CNTK's generated names: from the input, the stem (7×7
/// convolution, batch norm, ReLU, 3×3 max-pool), then each residual block (3×3 convolution, batch norm, ReLU, 3×3
/// convolution, batch norm, an addition with the block's input or with its 1×1 projection and batch norm, ReLU). Every
/// kernel size, stride, padding, group and dilation this relies on is asserted; a graph that differs is refused with a
/// message naming the node.</para>
/// <para>The graph pads its stride-2 layers asymmetrically (stem <c>[3,3,2,2]</c>, max-pool and strided 3×3
/// <c>[1,1,0,0]</c>): for even input sizes that samples exactly the positions torchvision's symmetric padding does, for
/// odd ones the last row and column differ. Its layer4 has three blocks (torchvision's has two), so layer4 is not
/// converted: the backbone is built up to layer3, which is what every model here uses.</para>
/// <para>The graph expects BGR values on the 0–255 scale minus a 224×224 mean image (from
/// <c>ResNetPreprocess.onnx</c>).
/// For the library's RGB [0, 1] ImageNet-normalized input the conversion reorders conv1's input channels, scales them
/// by 255·std and moves the constant 255·mean − (the mean image's channel means) into bn1's running mean. The
/// per-pixel variation of the mean image (and the value of the zero padding around the image) cannot be folded; both
/// change the features by a small amount (tested).</para>
/// </remarks>
public static class CntkResNet18
{
    /// <summary>The NuGet package that ships the graph.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The graph's file in that package.</summary>
    public const string ModelPath = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>The preprocessing graph's file in that package.</summary>
    public const string PreprocessPath = "tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    private static readonly double[] ImageNetMean = { 0.485, 0.456, 0.406 };
    private static readonly double[] ImageNetStd = { 0.229, 0.224, 0.225 };

    /// <summary>
    /// Converts <paramref name="modelOnnx"/> (<c>ResNet18.onnx</c>) with the preprocessing of
    /// <paramref name="preprocessOnnx"/>
    /// (<c>ResNetPreprocess.onnx</c>).
    /// </summary>
    /// <param name="modelOnnx">The ResNet-18 graph.</param>
    /// <param name="preprocessOnnx">The preprocessing graph (channel order and mean image).</param>
    /// <param name="packageVersion">The package version the files came from, recorded in the provenance.</param>
    /// <param name="foldPreprocessing">
    /// True (the default): weights for the library's RGB [0, 1] ImageNet-normalized input. False: the graph's own
    /// convention (BGR, 0–255, minus the mean), for comparing with the original.
    /// </param>
    /// <exception cref="InvalidDataException">A file is not such a graph; the message names the file and the
    /// node.</exception>
    public static ConvertedBackbone Convert(
        string modelOnnx,
        string preprocessOnnx,
        string packageVersion,
        bool foldPreprocessing = true
    )
    {
        var graph = OnnxGraph.Read(modelOnnx);
        var channelMeans = MeanImageChannelMeans(OnnxGraph.Read(preprocessOnnx), preprocessOnnx);
        var walk = new CntkGraphWalk(graph, modelOnnx);
        var tensors = new Dictionary<string, (long[] Shape, float[] Data)>(StringComparer.Ordinal);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);

        var x = walk.Single(graph.Inputs.Where(i => !graph.Initializers.ContainsKey(i)), "the graph input");
        var stem = walk.Convolution(
            walk.OnlyConsumer(x, "Conv"),
            3,
            64,
            7,
            2,
            new[] { 3L, 3, 3, 3 },
            new[] { 3L, 3, 2, 2 }
        );
        x = walk.BatchNorm(stem, "conv1", "bn1", tensors);
        x = walk.Relu(x);
        var pool = walk.OnlyConsumer(x, "MaxPool");
        walk.Expect(
            pool,
            pool.IntsOr("kernel_shape").SequenceEqual(new[] { 3L, 3 })
                && pool.IntsOr("strides").SequenceEqual(new[] { 2L, 2 }),
            "a 3×3 max-pool with stride 2"
        );
        walk.ExpectPads(pool, new[] { 1L, 1, 1, 1 }, new[] { 1L, 1, 0, 0 });
        x = pool.Outputs[0];

        long channels = 64;
        for (int layer = 1; layer <= 3; layer++)
        {
            long planes = 64L << (layer - 1);
            for (int block = 0; block < 2; block++)
            {
                long stride = layer > 1 && block == 0 ? 2 : 1;
                x = walk.BasicBlock(x, $"layer{layer}.{block}", channels, planes, stride, tensors);
                channels = planes;
            }

            outputs[$"layer{layer}"] = x;
        }

        // layer4 of this graph has three blocks; confirm the layout so that a different graph is not mistaken for it.
        for (int block = 0; block < 3; block++)
        {
            x = walk.BasicBlock(x, $"layer4.{block}", channels, 512, block == 0 ? 2 : 1, tensors: null);
            channels = 512;
        }

        if (foldPreprocessing)
        {
            FoldPreprocessing(tensors, channelMeans);
        }

        var provenance = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["backbone"] = "resnet18",
            ["layers"] = "conv1,layer1,layer2,layer3",
            ["source"] =
                $"NuGet package {PackageId} {packageVersion} (MIT, .NET Foundation), {ModelPath}, ImageNet-trained, "
                + $"exported by {graph.Producer}",
            ["source_sha256"] = Sha256(modelOnnx),
            ["preprocess_sha256"] = Sha256(preprocessOnnx),
            ["input"] = foldPreprocessing
                ? "RGB in [0, 1], ImageNet-normalized (mean 0.485/0.456/0.406, std 0.229/0.224/0.225); the source's "
                    + "BGR 0-255 mean-subtracted convention folded into conv1 and bn1"
                : "BGR on the 0-255 scale minus the mean image (the source's convention)",
            ["converter"] = $"TiledEnsemble {typeof(CntkResNet18).Assembly.GetName().Version}",
        };
        return new ConvertedBackbone(tensors, provenance, outputs);
    }

    /// <summary>
    /// conv1 sees 255·std·x̂ + 255·mean − μ (per RGB channel) where the source saw BGR values minus μ: reorder
    /// and scale its input channels, and subtract the constant part of its output from bn1's running mean.
    /// </summary>
    private static void FoldPreprocessing(Dictionary<string, (long[] Shape, float[] Data)> tensors, double[] bgrMeans)
    {
        var (shape, source) = tensors["conv1.weight"];
        long outputs = shape[0],
            taps = shape[2] * shape[3];
        var folded = new float[source.Length];
        var offsets = new double[outputs];
        for (long o = 0; o < outputs; o++)
        {
            for (int rgb = 0; rgb < 3; rgb++)
            {
                int bgr = 2 - rgb;
                double offset = (255 * ImageNetMean[rgb]) - bgrMeans[bgr];
                for (long t = 0; t < taps; t++)
                {
                    double w = source[(((o * 3) + bgr) * taps) + t];
                    folded[(((o * 3) + rgb) * taps) + t] = (float)(w * 255 * ImageNetStd[rgb]);
                    offsets[o] += w * offset;
                }
            }
        }

        tensors["conv1.weight"] = (shape, folded);
        var (meanShape, mean) = tensors["bn1.running_mean"];
        tensors["bn1.running_mean"] = (meanShape, mean.Select((m, o) => (float)(m - offsets[o])).ToArray());
    }

    /// <summary>B, G, R means of the preprocessing graph's mean image, after checking that it reorders RGB to BGR and
    /// subtracts it.</summary>
    private static double[] MeanImageChannelMeans(OnnxGraph graph, string path)
    {
        var walk = new CntkGraphWalk(graph, path);
        var split = graph.Nodes.FirstOrDefault(n => n.OpType == "Split");
        var concat = graph.Nodes.FirstOrDefault(n => n.OpType == "Concat");
        var sub = graph.Nodes.FirstOrDefault(n => n.OpType == "Sub");
        if (split is null || concat is null || sub is null || split.Outputs.Count != 3)
        {
            throw new InvalidDataException(
                $"'{path}' is not the expected preprocessing (Split into R, G, B; Concat as B, G, R; Sub of a mean "
                    + $"image)."
            );
        }

        walk.Expect(
            concat,
            concat.Inputs.SequenceEqual(split.Outputs.Reverse()),
            "the split channels concatenated in reverse order (RGB → BGR)"
        );
        var mean = sub
            .Inputs.Select(i => graph.Initializers.GetValueOrDefault(i))
            .OfType<OnnxTensor>()
            .SingleOrDefault();
        walk.Expect(
            sub,
            mean is not null && mean.Dims.Length == 4 && mean.Dims[1] == 3 && sub.Inputs[0] == concat.Outputs[0],
            "the BGR image minus a [1, 3, H, W] mean image"
        );
        long plane = mean!.Dims[2] * mean.Dims[3];
        return Enumerable
            .Range(0, 3)
            .Select(c => mean.Data.Skip((int)(c * plane)).Take((int)plane).Average(v => (double)v))
            .ToArray();
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return System.Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
