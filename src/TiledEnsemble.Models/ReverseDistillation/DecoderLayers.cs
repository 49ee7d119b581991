using System.Collections.Generic;
using System.Globalization;
using TiledEnsemble.Models.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>Builds the decoder's layers, mirroring the encoder (block counts and widths of the backbone).</summary>
internal static class DecoderLayers
{
    public static TorchSharp.Modules.Sequential? Upsample(long inPlanes, long outPlanes, long stride) =>
        stride != 1 || inPlanes != outPlanes
            ? Sequential(
                ("0", (Module<Tensor, Tensor>)ConvTranspose2d(inPlanes, outPlanes, 2, stride: stride, bias: false)),
                ("1", new BatchNormalization2d(outPlanes))
            )
            : null;

    public static TorchSharp.Modules.Sequential Make(
        BackboneKind kind,
        ref long inPlanes,
        long planes,
        int count,
        long stride
    )
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < count; i++)
        {
            var name = i.ToString(CultureInfo.InvariantCulture);
            long s = i == 0 ? stride : 1;
            if (kind == BackboneKind.ResNet18)
            {
                blocks.Add((name, new DecoderBasicBlock(name, inPlanes, planes, s)));
                inPlanes = planes * DecoderBasicBlock.Expansion;
            }
            else
            {
                blocks.Add((name, new DecoderBottleneck(name, inPlanes, planes, s, 128)));
                inPlanes = planes * DecoderBottleneck.Expansion;
            }
        }

        return Sequential(blocks.ToArray());
    }

    /// <summary>Blocks per stage: ResNet-18 [2, 2, 2, 2], Wide-ResNet-50-2 [3, 4, 6, 3].</summary>
    public static int[] Blocks(BackboneKind kind) =>
        kind == BackboneKind.ResNet18 ? new[] { 2, 2, 2, 2 } : new[] { 3, 4, 6, 3 };

    /// <summary>Channel expansion of the block type.</summary>
    public static int Expansion(BackboneKind kind) => kind == BackboneKind.ResNet18 ? 1 : 4;
}
