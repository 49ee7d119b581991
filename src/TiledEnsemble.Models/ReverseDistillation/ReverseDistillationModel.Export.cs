using System.Collections.Generic;
using TiledEnsemble.Export;
using TiledEnsemble.Imaging;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>
/// Reverse Distillation's prediction as ONNX: the bottleneck and decoder, one minus the cosine similarity of encoder
/// and decoder features per layer, upsampled (align_corners true), added or multiplied, blurred.
/// </summary>
public sealed partial class ReverseDistillationModel : IOnnxExportable
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
        var decoded = _network.Export(g, features, $"{hint}.network");
        var one = g.Scalar($"{hint}.one", 1f);
        string? map = null;
        for (int i = 0; i < features.Count; i++)
        {
            long stride = BackboneNames.Stride(_options.Layers[i]);
            var similarity = g.ReduceSum(
                g.Mul(Unit(g, features[i], hint), Unit(g, decoded[i], hint)),
                keepDims: true,
                1
            );
            var distance = g.Sub(one, similarity);
            var upsampled = g.ResizeBilinear(
                distance,
                tileHeight / stride,
                tileWidth / stride,
                tileHeight,
                tileWidth,
                $"{hint}.resize{i}",
                alignCorners: true
            );
            map =
                map is null ? upsampled
                : _options.MapMode == AnomalyMapMode.Add ? g.Add(map, upsampled)
                : g.Mul(map, upsampled);
        }

        var blurred = GaussianBlur.Export(g, map!, _options.BlurSigma, tileHeight, tileWidth, $"{hint}.blur");
        return (blurred, g.Reduce("ReduceMax", blurred, keepDims: false, 1, 2, 3));
    }

    /// <summary>Each position's channels over their norm, at least 1e-8: <c>cosine_similarity</c>'s
    /// normalization.</summary>
    private static string Unit(OnnxGraphBuilder g, string x, string hint) =>
        g.Div(x, g.Max(g.Reduce("ReduceL2", x, keepDims: true, 1), g.Scalar($"{hint}.epsilon", 1e-8f)));
}
