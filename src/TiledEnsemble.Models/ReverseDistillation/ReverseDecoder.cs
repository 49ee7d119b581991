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
    public override Tensor[] forward(Tensor embedding)
    {
        using var scope = NewDisposeScope();
        var a = layer1.forward(embedding);
        var b = layer2.forward(a);
        var c = layer3.forward(b);
        return new[] { c.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), a.MoveToOuterDisposeScope() };
    }
}
