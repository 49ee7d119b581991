using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>Follows tensors through the CNTK ResNet-18 graph for <see cref="CntkResNet18"/>, asserting each node it
/// relies on.</summary>
internal sealed class CntkGraphWalk
{
    private readonly OnnxGraph _graph;
    private readonly string _path;
    private readonly ILookup<string, OnnxNode> _consumers;

    public CntkGraphWalk(OnnxGraph graph, string path)
    {
        _graph = graph;
        _path = path;
        _consumers = graph
            .Nodes.SelectMany(n => n.Inputs.Select(i => (i, n)))
            .ToLookup(p => p.i, p => p.n, StringComparer.Ordinal);
    }

    public string Single(IEnumerable<string> values, string what)
    {
        var list = values.ToList();
        return list.Count == 1 ? list[0] : throw Refuse($"expected one {what}, found {list.Count}");
    }

    public OnnxNode OnlyConsumer(string tensor, string op)
    {
        var consumers = _consumers[tensor].ToList();
        return consumers.Count == 1 && consumers[0].OpType == op
            ? consumers[0]
            : throw Refuse(
                $"'{tensor}' should feed one {op} node; it feeds "
                    + $"{string.Join(", ", consumers.Select(c => c.Describe()))}"
            );
    }

    public void Expect(OnnxNode node, bool condition, string expectation)
    {
        if (!condition)
        {
            throw Refuse($"{node.Describe()} is not {expectation}");
        }
    }

    public void ExpectPads(OnnxNode node, params long[][] allowed)
    {
        var pads = node.IntsOr("pads", 0, 0, 0, 0);
        Expect(
            node,
            allowed.Any(a => a.SequenceEqual(pads)),
            $"padded as {string.Join(" or ", allowed.Select(a => $"[{string.Join(",", a)}]"))} (pads "
                + $"[{string.Join(",", pads)}])"
        );
    }

    /// <summary>Asserts a convolution's shape and attributes; returns it.</summary>
    public OnnxNode Convolution(
        OnnxNode node,
        long inChannels,
        long outChannels,
        long kernel,
        long stride,
        params long[][] pads
    )
    {
        Expect(node, node.OpType == "Conv", "a convolution");
        var weight = Initializer(node, 1);
        Expect(
            node,
            weight.Dims.SequenceEqual(new[] { outChannels, inChannels, kernel, kernel }),
            $"a {inChannels}→{outChannels} {kernel}×{kernel} convolution (weight "
                + $"[{string.Join(", ", weight.Dims)}])"
        );
        Expect(node, node.Inputs.Count == 2, "a convolution without bias");
        Expect(node, node.IntsOr("strides", 1, 1).SequenceEqual(new[] { stride, stride }), $"of stride {stride}");
        Expect(
            node,
            node.IntsOr("group", 1).SequenceEqual(new[] { 1L }) && node.IntsOr("dilations", 1, 1).All(d => d == 1),
            "ungrouped and undilated"
        );
        ExpectPads(node, pads);
        return node;
    }

    /// <summary>The batch norm after <paramref name="conv"/>: both stored under the given names; returns its
    /// output.</summary>
    public string BatchNorm(
        OnnxNode conv,
        string convName,
        string normName,
        Dictionary<string, (long[] Shape, float[] Data)>? tensors
    )
    {
        var norm = OnlyConsumer(conv.Outputs[0], "BatchNormalization");
        long channels = Initializer(conv, 1).Dims[0];
        var (scale, bias, mean, variance) = (
            Initializer(norm, 1),
            Initializer(norm, 2),
            Initializer(norm, 3),
            Initializer(norm, 4)
        );
        Expect(
            norm,
            new[] { scale, bias, mean, variance }.All(t => t.Dims.SequenceEqual(new[] { channels })),
            $"a batch norm over {channels} channels"
        );
        if (tensors is not null)
        {
            // The library's batch norms use ε = 1e-5: another ε is folded into the variance exactly.
            double epsilon = norm.Floats.TryGetValue("epsilon", out var e) ? e : 1e-5;
            tensors[$"{convName}.weight"] = (Initializer(conv, 1).Dims, Initializer(conv, 1).Data);
            tensors[$"{normName}.weight"] = (scale.Dims, scale.Data);
            tensors[$"{normName}.bias"] = (bias.Dims, bias.Data);
            tensors[$"{normName}.running_mean"] = (mean.Dims, mean.Data);
            tensors[$"{normName}.running_var"] = (
                variance.Dims,
                variance.Data.Select(v => (float)(v + epsilon - 1e-5)).ToArray()
            );
        }

        return norm.Outputs[0];
    }

    public string Relu(string tensor) => OnlyConsumer(tensor, "Relu").Outputs[0];

    /// <summary>One residual block from <paramref name="input"/>; returns its output (after the final ReLU).</summary>
    public string BasicBlock(
        string input,
        string name,
        long inChannels,
        long planes,
        long stride,
        Dictionary<string, (long[] Shape, float[] Data)>? tensors
    )
    {
        var consumers = _consumers[input].ToList();
        var convolutions = consumers.Where(c => c.OpType == "Conv").ToList();
        bool projected = stride != 1 || inChannels != planes;
        var expected = projected ? 2 : 1;
        if (convolutions.Count != expected || consumers.Count != 2)
        {
            var feeds = projected ? "a 3×3 convolution and a 1×1 projection" : "a 3×3 convolution and the sum";
            var actual = string.Join(", ", consumers.Select(c => c.Describe()));
            throw Refuse($"block {name}: '{input}' should feed {feeds}; it feeds {actual}");
        }

        var conv1 = Convolution(
            convolutions.Single(c => Initializer(c, 1).Dims[2] == 3),
            inChannels,
            planes,
            3,
            stride,
            new[] { 1L, 1, 1, 1 },
            new[] { 1L, 1, 0, 0 }
        );
        var x = Relu(BatchNorm(conv1, $"{name}.conv1", $"{name}.bn1", tensors));
        var conv2 = Convolution(OnlyConsumer(x, "Conv"), planes, planes, 3, 1, new[] { 1L, 1, 1, 1 });
        var main = BatchNorm(conv2, $"{name}.conv2", $"{name}.bn2", tensors);
        string identity = input;
        if (projected)
        {
            var projection = Convolution(
                convolutions.Single(c => Initializer(c, 1).Dims[2] == 1),
                inChannels,
                planes,
                1,
                stride,
                new[] { 0L, 0, 0, 0 }
            );
            identity = BatchNorm(projection, $"{name}.downsample.0", $"{name}.downsample.1", tensors);
        }

        var add = OnlyConsumer(main, "Add");
        Expect(add, add.Inputs.Count == 2 && add.Inputs.Contains(identity), $"the residual addition of block {name}");
        return Relu(add.Outputs[0]);
    }

    private OnnxTensor Initializer(OnnxNode node, int input) =>
        node.Inputs.Count > input && _graph.Initializers.TryGetValue(node.Inputs[input], out var tensor)
            ? tensor
            : throw Refuse($"{node.Describe()}: input {input} is not a float initializer");

    private InvalidDataException Refuse(string problem) =>
        new(
            string.Create(
                CultureInfo.InvariantCulture,
                $"'{_path}' is not the ResNet-18 graph this converter knows: {problem}."
            )
        );
}
