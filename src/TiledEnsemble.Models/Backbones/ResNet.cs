using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// ResNet-18 and Wide-ResNet-50-2 as feature extractors, with torchvision's module and parameter names
/// (<c>conv1.weight</c>, <c>bn1.running_mean</c>, <c>layer1.0.conv1.weight</c>, …) so that state dicts map one to
/// one. The classifier (<c>fc</c>) is left out: anomaly models never use it.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential? layer4;

    static ResNet()
    {
        // OpenMP reads its wait policy when libtorch loads: decide it before the first backbone touches TorchSharp.
        _ = TiledEnsemble.Hosting.OpenMpWaitPolicy.Applied;
    }

    private ResNet(BackboneKind kind, int depth)
        : base(BackboneNames.Name(kind))
    {
        Kind = kind;
        Depth = depth;
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = new BatchNormalization2d(64);
        var blocks = kind == BackboneKind.ResNet18 ? new[] { 2, 2, 2, 2 } : new[] { 3, 4, 6, 3 };
        long inPlanes = 64;
        layer1 = MakeLayer(kind, ref inPlanes, 64, blocks[0], 1);
        layer2 = MakeLayer(kind, ref inPlanes, 128, blocks[1], 2);
        layer3 = MakeLayer(kind, ref inPlanes, 256, blocks[2], 2);
        layer4 = depth >= 4 ? MakeLayer(kind, ref inPlanes, 512, blocks[3], 2) : null;
        RegisterComponents();
    }

    /// <summary>Which ResNet this is.</summary>
    public BackboneKind Kind { get; }

    /// <summary>The deepest layer built: 4 for a full backbone, 3 for a student that never uses layer4.</summary>
    public int Depth { get; }

    /// <summary>
    /// Creates a backbone with seeded random weights (torchvision's initialisation: Kaiming-normal convolutions with
    /// fan-out, batch norm weight 1 and bias 0), deterministic for a seed, in eval mode and frozen.
    /// </summary>
    public static ResNet Create(BackboneKind kind, long seed) => Create(kind, seed, 4);

    /// <summary>As <see cref="Create(BackboneKind, long)"/>, built only up to layer <paramref name="depth"/> (3 or
    /// 4).</summary>
    internal static ResNet Create(BackboneKind kind, long seed, int depth)
    {
        var model = new ResNet(kind, depth);
        using var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (parameter.dim() == 4)
                {
                    long fanOut = parameter.shape[0] * parameter.shape[2] * parameter.shape[3];
                    using var std = Math.Sqrt(2.0 / fanOut).ToScalar();
                    using var sample = randn(parameter.shape, generator: generator);
                    parameter.copy_(sample.mul_(std));
                }
                else if (name.EndsWith(".weight", StringComparison.Ordinal) || name == "bn1.weight")
                {
                    parameter.fill_(Scalars.One);
                }
                else
                {
                    parameter.zero_();
                }
            }
        }

        model.Freeze();
        return model;
    }

    /// <summary>Puts the backbone in eval mode with gradients off: it is never trained here.</summary>
    public void Freeze()
    {
        eval();
        foreach (var parameter in parameters())
        {
            parameter.requires_grad = false;
        }
    }

    /// <summary>Train mode with gradients on: for a network that learns (the STFPM student).</summary>
    internal void Unfreeze()
    {
        train();
        foreach (var parameter in parameters())
        {
            parameter.requires_grad = true;
        }
    }

    /// <summary>Runs up to layer4 and returns its output.</summary>
    public override Tensor forward(Tensor input) => Features(input, new[] { "layer4" })[0];

    /// <summary>
    /// Returns the outputs of <paramref name="layers"/> (in the order asked), computing no layer beyond the deepest
    /// one.
    /// </summary>
    /// <param name="input">[B, 3, H, W], already ImageNet-normalized.</param>
    /// <param name="layers">Names among layer1..layer4.</param>
    /// <exception cref="Diagnostics.ConvolutionSelfCheckException">
    /// A convolution needed for this input size computes wrong values on this CPU or device (checked once per size).
    /// </exception>
    public Tensor[] Features(Tensor input, IReadOnlyList<string> layers) =>
        Features(input, layers, deepestChannels: null);

    /// <summary>
    /// As <see cref="Features(Tensor, IReadOnlyList{string})"/>, but the deepest layer's output holds only
    /// <paramref name="deepestChannels"/> (when given): in eval mode its last block computes just those channels.
    /// </summary>
    internal Tensor[] Features(Tensor input, IReadOnlyList<string> layers, Tensor? deepestChannels) =>
        Features(input, layers, deepestChannels, InferenceChunkBytes);

    /// <summary>As <see cref="Features(Tensor, IReadOnlyList{string}, Tensor?)"/>, in inference chunks of at most
    /// <paramref name="chunkBytes"/> (see <see cref="InferenceChunkBytes"/>; 0: one pass).</summary>
    internal Tensor[] Features(Tensor input, IReadOnlyList<string> layers, Tensor? deepestChannels, long chunkBytes)
    {
        if (layers.Count == 0)
        {
            throw new ArgumentException("Ask for at least one layer.", nameof(layers));
        }

        int deepest = layers.Max(BackboneNames.LayerIndex);
        if (deepest > Depth)
        {
            throw new ArgumentException(
                $"This {BackboneNames.Name(Kind)} is built up to layer{Depth}; layer{deepest} was asked for.",
                nameof(layers)
            );
        }

        if (input.dim() == 4)
        {
            Diagnostics.ConvolutionSelfCheck.EnsureVerified(this, input, deepest);
        }

        long chunk = ImagesPerChunk(input, chunkBytes);
        if (chunk < input.shape[0])
        {
            return InChunks(input, layers, deepestChannels, chunk);
        }

        using var scope = NewDisposeScope();
        var outputs = new Tensor[5];
        var x = Pooling.MaxPool(
            FoldedConvolution.Apply(conv1, bn1, Pooling.ChannelsLastOnCpu(input), null).relu_(),
            3,
            stride: 2,
            padding: 1
        );
        var stages = new[] { layer1, layer2, layer3, layer4! };
        for (int i = 1; i <= deepest; i++)
        {
            x =
                i == deepest && deepestChannels is not null
                    ? SelectedStage(stages[i - 1], x, deepestChannels)
                    : stages[i - 1].forward(x);
            outputs[i] = x;
        }

        return layers.Select(l => outputs[BackboneNames.LayerIndex(l)].MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>
    /// The eval-mode forward pass up to the deepest of <paramref name="layers"/> as ONNX nodes (batch norms folded into
    /// the convolutions, as <see cref="Features(Tensor, IReadOnlyList{string})"/> computes them).
    /// </summary>
    /// <param name="g">The graph.</param>
    /// <param name="input">[N, 3, H, W], ImageNet-normalized.</param>
    /// <param name="layers">Names among layer1..layer4.</param>
    /// <param name="hint">A prefix of the initializers' names.</param>
    /// <returns>The outputs' names, in the order of <paramref name="layers"/>.</returns>
    internal string[] ExportFeatures(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        string input,
        IReadOnlyList<string> layers,
        string hint
    )
    {
        int deepest = layers.Max(BackboneNames.LayerIndex);
        if (deepest > Depth)
        {
            throw new ArgumentException(
                $"This {BackboneNames.Name(Kind)} is built up to layer{Depth}; layer{deepest} was asked for.",
                nameof(layers)
            );
        }

        var outputs = new string[5];
        var x = g.MaxPool(g.Relu(FoldedConvolution.Export(g, conv1, bn1, input, $"{hint}.conv1")), 3, 2, 1);
        var stages = new[] { layer1, layer2, layer3, layer4! };
        for (int i = 1; i <= deepest; i++)
        {
            int block = 0;
            foreach (var module in stages[i - 1].children())
            {
                var name = $"{hint}.layer{i}.{block++}";
                x = module switch
                {
                    BasicBlock basic => basic.Export(g, x, name),
                    Bottleneck bottleneck => bottleneck.Export(g, x, name),
                    _ => throw new NotSupportedException($"{module.GetType().Name} has no ONNX form."),
                };
            }

            outputs[i] = x;
        }

        return layers.Select(l => outputs[BackboneNames.LayerIndex(l)]).ToArray();
    }

    /// <summary>
    /// The most bytes of the largest feature map (the stem convolution's output) that one forward pass computes at once
    /// in inference on the CPU; larger batches run in chunks of images, and their outputs are concatenated.
    /// </summary>
    /// <remarks>
    /// glibc serves a block from its heaps only if it fits one: the main thread's heap grows without bound, but every
    /// other thread allocates from an arena of heaps of 64 MiB, and anything larger is mapped afresh and unmapped when
    /// freed, whatever the mmap threshold. At batch 16 of 256² the stem's output is 64 MiB: on a worker thread the
    /// backbone then touched 2,200 fresh pages per image and ran at 0.32 of ONNX Runtime; in chunks of 16 MiB, 3 pages
    /// and 0.72; 32 MiB chunks still left 104 pages (docs/benchmarks.md). Training passes (gradients on) are not cut.
    /// </remarks>
    internal const long InferenceChunkBytes = 16L << 20;

    /// <summary>Images per forward pass for <paramref name="input"/>: all of them outside CPU inference.</summary>
    internal long ImagesPerChunk(Tensor input, long chunkBytes)
    {
        if (training || is_grad_enabled() || input.dim() != 4 || input.device_type != DeviceType.CPU || chunkBytes <= 0)
        {
            return long.MaxValue;
        }

        long stemBytes = 64L * ((input.shape[2] + 1) / 2) * ((input.shape[3] + 1) / 2) * input.element_size();
        return Math.Max(1, chunkBytes / stemBytes);
    }

    private Tensor[] InChunks(Tensor input, IReadOnlyList<string> layers, Tensor? deepestChannels, long chunk)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor[]>();
        for (long start = 0; start < input.shape[0]; start += chunk)
        {
            parts.Add(
                Features(input.narrow(0, start, Math.Min(chunk, input.shape[0] - start)), layers, deepestChannels, 0)
            );
        }

        return Enumerable
            .Range(0, layers.Count)
            .Select(l => cat(parts.Select(p => p[l]).ToArray(), 0).MoveToOuterDisposeScope())
            .ToArray();
    }

    /// <summary>A stage whose output is needed for some channels only: all blocks but the last run in full.</summary>
    private Tensor SelectedStage(Sequential stage, Tensor input, Tensor channels)
    {
        using var scope = NewDisposeScope();
        if (training)
        {
            // Batch statistics of a training pass need every channel.
            return stage.forward(input).index_select(1, channels).MoveToOuterDisposeScope();
        }

        var blocks = stage.children().Cast<Module<Tensor, Tensor>>().ToArray();
        var x = input;
        for (int b = 0; b < blocks.Length - 1; b++)
        {
            x = blocks[b].forward(x);
        }

        return ((IChannelSelectableBlock)blocks[^1]).ForwardSelected(x, channels).MoveToOuterDisposeScope();
    }

    private static Sequential MakeLayer(BackboneKind kind, ref long inPlanes, long planes, int count, long stride)
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < count; i++)
        {
            var name = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (kind == BackboneKind.ResNet18)
            {
                blocks.Add((name, new BasicBlock(name, inPlanes, planes, i == 0 ? stride : 1)));
                inPlanes = planes * BasicBlock.Expansion;
            }
            else
            {
                blocks.Add((name, new Bottleneck(name, inPlanes, planes, i == 0 ? stride : 1, 128)));
                inPlanes = planes * Bottleneck.Expansion;
            }
        }

        return Sequential(blocks.ToArray());
    }
}
