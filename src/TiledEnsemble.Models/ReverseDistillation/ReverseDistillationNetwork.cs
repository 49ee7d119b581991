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

    /// <summary><see cref="Decode"/> in eval mode as ONNX nodes.</summary>
    public string[] Export(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        System.Collections.Generic.IReadOnlyList<string> encoderFeatures,
        string hint
    ) => decoder.Export(g, bottleneck.Export(g, encoderFeatures, $"{hint}.bottleneck"), $"{hint}.decoder");

    public Tensor[] Decode(Tensor[] encoderFeatures)
    {
        using var embedding = bottleneck.forward(encoderFeatures);
        return decoder.forward(embedding);
    }
}
