using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>The trainable part of FastFlow: a LayerNorm and a flow per feature scale (anomalib's <c>norms</c>,
/// <c>fast_flow_blocks</c>).</summary>
internal sealed class FastflowNetwork : Module
{
    private readonly ModuleList<LayerNorm> norms;
    private readonly ModuleList<FlowSequence> fast_flow_blocks;

    /// <param name="featureShapes">[C, h, w] of each scale at the input size.</param>
    /// <param name="options">Flow settings.</param>
    public FastflowNetwork(IReadOnlyList<long[]> featureShapes, FastflowOptions options)
        : base(nameof(FastflowNetwork))
    {
        var layerNorms = new List<LayerNorm>();
        var flows = new List<FlowSequence>();
        for (int i = 0; i < featureShapes.Count; i++)
        {
            layerNorms.Add(LayerNorm(featureShapes[i], elementwise_affine: true));
            flows.Add(
                new FlowSequence(
                    i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    featureShapes[i][0],
                    options,
                    options.Training.Seed + (1000L * (i + 1))
                )
            );
        }

        norms = ModuleList(layerNorms.ToArray());
        fast_flow_blocks = ModuleList(flows.ToArray());
        RegisterComponents();
    }

    /// <summary>The latent z of each scale and the summed log|det J| per sample of each.</summary>
    /// <summary>The latents of every layer as ONNX nodes: layer norm (opset 17's LayerNormalization), then the
    /// flow.</summary>
    public string[] Export(TiledEnsemble.Export.OnnxGraphBuilder g, IReadOnlyList<string> features, string hint)
    {
        var latents = new string[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            var norm = norms[i];
            var normalized = g.Node(
                "LayerNormalization",
                new[]
                {
                    features[i],
                    g.Initializer($"{hint}.norm{i}.weight", norm.weight!),
                    g.Initializer($"{hint}.norm{i}.bias", norm.bias!),
                },
                attributes: new[]
                {
                    TiledEnsemble.Export.OnnxGraphBuilder.AttrInt("axis", 1),
                    TiledEnsemble.Export.OnnxGraphBuilder.AttrFloat("epsilon", (float)norm.eps),
                }
            );
            latents[i] = fast_flow_blocks[i].Export(g, normalized, norm.weight!.shape[0], $"{hint}.flow{i}");
        }

        return latents;
    }

    public (Tensor[] Latents, Tensor[] LogJacobians) Forward(IReadOnlyList<Tensor> features)
    {
        using var scope = NewDisposeScope();
        var latents = new Tensor[features.Count];
        var logJacobians = new Tensor[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            (latents[i], logJacobians[i]) = fast_flow_blocks[i].Forward(norms[i].forward(features[i]));
        }

        return (
            latents.Select(t => t.MoveToOuterDisposeScope()).ToArray(),
            logJacobians.Select(t => t.MoveToOuterDisposeScope()).ToArray()
        );
    }
}
