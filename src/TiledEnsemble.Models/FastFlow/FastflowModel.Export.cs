using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>
/// FastFlow's prediction as ONNX: each layer's latent through its flow, the negated likelihood exp(−½·mean z²)
/// upsampled, averaged over layers.
/// </summary>
public sealed partial class FastflowModel : IOnnxExportable
{
    IReadOnlyList<string> IOnnxExportable.ExportLayers => _options.Layers;

    (string Maps, string Scores) IOnnxExportable.ExportHead(
        OnnxGraphBuilder g,
        string tiles,
        IReadOnlyList<string> features,
        long tileHeight,
        long tileWidth,
        string hint
    )
    {
        var latents = _network.Export(g, features, $"{hint}.network");
        var minusHalf = g.Scalar($"{hint}.minus_half", -0.5f);
        var maps = latents
            .Select(
                (z, i) =>
                {
                    long stride = BackboneNames.Stride(_options.Layers[i]);
                    var squared = g.Reduce("ReduceMean", g.Mul(z, z), keepDims: true, 1);
                    var probability = g.Unary("Exp", g.Mul(squared, minusHalf));
                    var upsampled = g.ResizeBilinear(
                        g.Unary("Neg", probability),
                        tileHeight / stride,
                        tileWidth / stride,
                        tileHeight,
                        tileWidth,
                        $"{hint}.resize{i}"
                    );
                    return g.Unsqueeze(upsampled, 4);
                }
            )
            .ToArray();
        var map = g.Reduce("ReduceMean", g.Concat(4, maps), keepDims: false, 4);
        return (map, g.Reduce("ReduceMax", map, keepDims: false, 1, 2, 3));
    }
}
