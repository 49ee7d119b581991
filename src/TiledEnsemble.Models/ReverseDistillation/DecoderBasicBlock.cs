using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>The decoder's basic block: a ResNet basic block whose first convolution upsamples (2×2 transposed) when
/// the stride is 2.</summary>
internal sealed class DecoderBasicBlock : Module<Tensor, Tensor>
{
    public const int Expansion = 1;

    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNormalization2d bn2;
    private readonly Sequential? upsample;

    public DecoderBasicBlock(string name, long inPlanes, long planes, long stride)
        : base(name)
    {
        conv1 =
            stride == 2
                ? ConvTranspose2d(inPlanes, planes, 2, stride: 2, bias: false)
                : Conv2d(inPlanes, planes, 3, padding: 1, bias: false);
        bn1 = new BatchNormalization2d(planes);
        conv2 = Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = new BatchNormalization2d(planes);
        upsample = DecoderLayers.Upsample(inPlanes, planes * Expansion, stride);
        RegisterComponents();
    }

    /// <summary>The block in eval mode as ONNX nodes (batch norms folded); returns the output's name.</summary>
    public string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string input, string hint)
    {
        var x = g.Relu(FoldedConvolution.ExportAny(g, conv1, bn1, input, $"{hint}.conv1"));
        x = FoldedConvolution.Export(g, conv2, bn2, x, $"{hint}.conv2");
        return g.Relu(g.Add(x, FoldedConvolution.ExportResidual(g, upsample, input, $"{hint}.upsample")));
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.forward(conv1.forward(input)));
        x = bn2.forward(conv2.forward(x));
        var identity = upsample is null ? input : upsample.forward(input);
        return functional.relu(x.add(identity, Scalars.One)).MoveToOuterDisposeScope();
    }
}
