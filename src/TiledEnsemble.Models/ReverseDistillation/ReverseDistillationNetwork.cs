using TiledEnsemble.Models.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>The trainable part of Reverse Distillation: <c>bottleneck.*</c> and <c>decoder.*</c> (the encoder is the
/// frozen backbone).</summary>
internal sealed class ReverseDistillationNetwork : Module
{
    private readonly OneClassBottleneck bottleneck;
    private readonly ReverseDecoder decoder;

    public ReverseDistillationNetwork(BackboneKind kind)
        : base(nameof(ReverseDistillationNetwork))
    {
        bottleneck = new OneClassBottleneck(kind);
        decoder = new ReverseDecoder(kind);
        RegisterComponents();
    }

    public Tensor[] Decode(Tensor[] encoderFeatures)
    {
        using var embedding = bottleneck.forward(encoderFeatures);
        return decoder.forward(embedding);
    }
}
