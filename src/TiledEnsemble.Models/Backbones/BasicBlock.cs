using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.Backbones;

/// <summary>ResNet-18/34 residual block (two 3×3 convolutions), parameter names as torchvision's.</summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>, IChannelSelectableBlock
{
    public const int Expansion = 1;

    private readonly Conv2d conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNormalization2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(string name, long inPlanes, long planes, long stride)
        : base(name)
    {
        conv1 = Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = new BatchNormalization2d(planes);
        conv2 = Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = new BatchNormalization2d(planes);
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
        x = FoldedConvolution.Export(g, conv2, bn2, x, $"{hint}.conv2");
        return g.Relu(g.Add(x, FoldedConvolution.ExportResidual(g, downsample, input, hint)));
    }

    private Tensor Run(Tensor input, Tensor? channels)
    {
        using var scope = NewDisposeScope();
        var x = FoldedConvolution.Apply(conv1, bn1, input, null).relu_();
        x = FoldedConvolution.Apply(conv2, bn2, x, channels);
        return x.add_(FoldedConvolution.Residual(downsample, input, channels), Scalars.One)
            .relu_()
            .MoveToOuterDisposeScope();
    }
}
