using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.Backbones;

/// <summary>ResNet-50-style bottleneck (1×1, 3×3 with the stride, 1×1), parameter names as torchvision's
/// (v1.5).</summary>
internal sealed class Bottleneck : Module<Tensor, Tensor>, IChannelSelectableBlock
{
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNormalization2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNormalization2d bn3;
    private readonly Sequential? downsample;

    /// <param name="name">Module name.</param>
    /// <param name="inPlanes">Input channels.</param>
    /// <param name="planes">Output channels before expansion.</param>
    /// <param name="stride">Stride of the 3×3 convolution.</param>
    /// <param name="widthPerGroup">64 for ResNet-50, 128 for Wide-ResNet-50-2.</param>
    public Bottleneck(string name, long inPlanes, long planes, long stride, long widthPerGroup)
        : base(name)
    {
        long width = planes * widthPerGroup / 64;
        conv1 = Conv2d(inPlanes, width, 1, bias: false);
        bn1 = new BatchNormalization2d(width);
        conv2 = Conv2d(width, width, 3, stride: stride, padding: 1, bias: false);
        bn2 = new BatchNormalization2d(width);
        conv3 = Conv2d(width, planes * Expansion, 1, bias: false);
        bn3 = new BatchNormalization2d(planes * Expansion);
        if (stride != 1 || inPlanes != planes * Expansion)
        {
            downsample = Sequential(
                ("0", (Module<Tensor, Tensor>)Conv2d(inPlanes, planes * Expansion, 1, stride: stride, bias: false)),
                ("1", new BatchNormalization2d(planes * Expansion))
            );
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Run(input, null);

    public Tensor ForwardSelected(Tensor input, Tensor channels) => Run(input, channels);

    /// <summary>The block in eval mode as ONNX nodes (batch norms folded); returns the output's name.</summary>
    public string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string input, string hint)
    {
        var x = g.Relu(FoldedConvolution.Export(g, conv1, bn1, input, $"{hint}.conv1"));
        x = g.Relu(FoldedConvolution.Export(g, conv2, bn2, x, $"{hint}.conv2"));
        x = FoldedConvolution.Export(g, conv3, bn3, x, $"{hint}.conv3");
        return g.Relu(g.Add(x, FoldedConvolution.ExportResidual(g, downsample, input, hint)));
    }

    private Tensor Run(Tensor input, Tensor? channels)
    {
        using var scope = NewDisposeScope();
        var x = FoldedConvolution.Apply(conv1, bn1, input, null).relu_();
        x = FoldedConvolution.Apply(conv2, bn2, x, null).relu_();
        x = FoldedConvolution.Apply(conv3, bn3, x, channels);
        return x.add_(FoldedConvolution.Residual(downsample, input, channels), Scalars.One)
            .relu_()
            .MoveToOuterDisposeScope();
    }
}
