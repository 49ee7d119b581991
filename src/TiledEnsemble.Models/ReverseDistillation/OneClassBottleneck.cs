using System.Collections.Generic;
using System.Globalization;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>
/// The one-class bottleneck embedding (OCBE): layer1 and layer2 features brought down to layer3's resolution by
/// strided 3×3 convolutions, concatenated with layer3, and compressed by a strided ResNet stage (<c>bn_layer</c>).
/// Names as anomalib's, including its unused <c>conv4</c>/<c>bn4</c>, so that state dicts map one to one.
/// </summary>
internal sealed class OneClassBottleneck : Module<Tensor[], Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNormalization2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNormalization2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNormalization2d bn3;
    private readonly Conv2d conv4;
    private readonly BatchNormalization2d bn4;
    private readonly Sequential bn_layer;

    public OneClassBottleneck(BackboneKind kind)
        : base("bottleneck")
    {
        long e = DecoderLayers.Expansion(kind);
        conv1 = Conv2d(64 * e, 128 * e, 3, stride: 2, padding: 1, bias: false);
        bn1 = new BatchNormalization2d(128 * e);
        conv2 = Conv2d(128 * e, 256 * e, 3, stride: 2, padding: 1, bias: false);
        bn2 = new BatchNormalization2d(256 * e);
        conv3 = Conv2d(128 * e, 256 * e, 3, stride: 2, padding: 1, bias: false);
        bn3 = new BatchNormalization2d(256 * e);
        conv4 = Conv2d(1024 * e, 512 * e, 1, bias: false);
        bn4 = new BatchNormalization2d(512 * e);

        long inPlanes = 256 * e * 3;
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        int count = kind == BackboneKind.ResNet18 ? 2 : 3;
        for (int i = 0; i < count; i++)
        {
            var name = i.ToString(CultureInfo.InvariantCulture);
            long stride = i == 0 ? 2 : 1;
            blocks.Add(
                (
                    name,
                    kind == BackboneKind.ResNet18
                        ? new BasicBlock(name, inPlanes, 512, stride)
                        : new Bottleneck(name, inPlanes, 512, stride, 128)
                )
            );
            inPlanes = 512 * e;
        }

        bn_layer = Sequential(blocks.ToArray());
        RegisterComponents();
    }

    /// <summary>The bottleneck in eval mode as ONNX nodes (batch norms folded); returns the embedding's name.</summary>
    public string Export(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        System.Collections.Generic.IReadOnlyList<string> features,
        string hint
    )
    {
        var first = g.Relu(FoldedConvolution.Export(g, conv1, bn1, features[0], $"{hint}.conv1"));
        first = g.Relu(FoldedConvolution.Export(g, conv2, bn2, first, $"{hint}.conv2"));
        var second = g.Relu(FoldedConvolution.Export(g, conv3, bn3, features[1], $"{hint}.conv3"));
        var x = g.Concat(1, new[] { first, second, features[2] });
        int block = 0;
        foreach (var module in bn_layer.children())
        {
            var name = $"{hint}.bn_layer.{block++}";
            x = module switch
            {
                BasicBlock basic => basic.Export(g, x, name),
                Bottleneck bottleneck => bottleneck.Export(g, x, name),
                _ => throw new System.NotSupportedException($"{module.GetType().Name} has no ONNX form."),
            };
        }

        return x;
    }

    /// <param name="features">Encoder features of layer1, layer2, layer3.</param>
    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var first = functional.relu(
            bn2.forward(conv2.forward(functional.relu(bn1.forward(conv1.forward(features[0])))))
        );
        var second = functional.relu(bn3.forward(conv3.forward(features[1])));
        var fused = cat(new[] { first, second, features[2] }, 1);
        return bn_layer.forward(fused).contiguous().MoveToOuterDisposeScope();
    }
}
