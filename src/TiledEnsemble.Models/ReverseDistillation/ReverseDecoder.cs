using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>The decoder: the encoder's stages in reverse, each upsampling by 2; outputs in the encoder's layer
/// order.</summary>
internal sealed class ReverseDecoder : Module<Tensor, Tensor[]>
{
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;

    public ReverseDecoder(BackboneKind kind)
        : base("decoder")
    {
        var blocks = DecoderLayers.Blocks(kind);
        long inPlanes = 512L * DecoderLayers.Expansion(kind);
        layer1 = DecoderLayers.Make(kind, ref inPlanes, 256, blocks[0], 2);
        layer2 = DecoderLayers.Make(kind, ref inPlanes, 128, blocks[1], 2);
        layer3 = DecoderLayers.Make(kind, ref inPlanes, 64, blocks[2], 2);
        RegisterComponents();
    }

    /// <summary>[layer1-like, layer2-like, layer3-like] reconstructions.</summary>
    /// <summary>The decoder in eval mode as ONNX nodes: the outputs of layer3, layer2 and layer1, in that
    /// order.</summary>
    public string[] Export(TiledEnsemble.Export.OnnxGraphBuilder g, string embedding, string hint)
    {
        string Stage(Sequential stage, string x, string name)
        {
            int block = 0;
            foreach (var module in stage.children())
            {
                var blockName = $"{hint}.{name}.{block++}";
                x = module switch
                {
                    DecoderBasicBlock basic => basic.Export(g, x, blockName),
                    DecoderBottleneck bottleneck => bottleneck.Export(g, x, blockName),
                    _ => throw new System.NotSupportedException($"{module.GetType().Name} has no ONNX form."),
                };
            }

            return x;
        }

        var a = Stage(layer1, embedding, "layer1");
        var b = Stage(layer2, a, "layer2");
        var c = Stage(layer3, b, "layer3");
        return new[] { c, b, a };
    }

    public override Tensor[] forward(Tensor embedding)
    {
        using var scope = NewDisposeScope();
        var a = layer1.forward(embedding);
        var b = layer2.forward(a);
        var c = layer3.forward(b);
        return new[] { c.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), a.MoveToOuterDisposeScope() };
    }
}
