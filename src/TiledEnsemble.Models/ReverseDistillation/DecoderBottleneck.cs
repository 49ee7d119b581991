using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>The decoder's bottleneck block: 1×1, then 2×2 transposed (stride 2) or 3×3, then 1×1 to
/// planes·4.</summary>
internal sealed class DecoderBottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Module<Tensor, Tensor> conv2;
    private readonly BatchNormalization2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNormalization2d bn3;
    private readonly Sequential? upsample;

    public DecoderBottleneck(string name, long inPlanes, long planes, long stride, long widthPerGroup)
        : base(name)
    {
        long width = planes * widthPerGroup / 64;
        conv1 = Conv2d(inPlanes, width, 1, bias: false);
        bn1 = new BatchNormalization2d(width);
        conv2 =
            stride == 2
                ? ConvTranspose2d(width, width, 2, stride: 2, bias: false)
                : Conv2d(width, width, 3, padding: 1, bias: false);
        bn2 = new BatchNormalization2d(width);
        conv3 = Conv2d(width, planes * Expansion, 1, bias: false);
        bn3 = new BatchNormalization2d(planes * Expansion);
        upsample = DecoderLayers.Upsample(inPlanes, planes * Expansion, stride);
        RegisterComponents();
    }

    /// <summary>The block in eval mode as ONNX nodes (batch norms folded); returns the output's name.</summary>
    public string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string input, string hint)
    {
        var x = g.Relu(FoldedConvolution.Export(g, conv1, bn1, input, $"{hint}.conv1"));
        x = g.Relu(FoldedConvolution.ExportAny(g, conv2, bn2, x, $"{hint}.conv2"));
        x = FoldedConvolution.Export(g, conv3, bn3, x, $"{hint}.conv3");
        return g.Relu(g.Add(x, FoldedConvolution.ExportResidual(g, upsample, input, $"{hint}.upsample")));
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.forward(Convolutions.Forward(conv1, input)));
        x = functional.relu(bn2.forward(conv2.forward(x)));
        x = bn3.forward(Convolutions.Forward(conv3, x));
        var identity = upsample is null ? input : upsample.forward(input);
        return functional.relu(x.add(identity, Scalars.One)).MoveToOuterDisposeScope();
    }
}
