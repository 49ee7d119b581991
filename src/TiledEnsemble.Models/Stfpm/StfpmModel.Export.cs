using System.Collections.Generic;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.Stfpm;

/// <summary>STFPM's prediction as ONNX: the student's features against the teacher's, per layer, multiplied.</summary>
public sealed partial class StfpmModel : IOnnxExportable
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
        var student = _network.Student.ExportFeatures(g, tiles, _options.Layers, $"{hint}.student");
        string? map = null;
        for (int i = 0; i < features.Count; i++)
        {
            long stride = BackboneNames.Stride(_options.Layers[i]);
            var difference = g.Sub(Normalized(g, features[i], hint), Normalized(g, student[i], hint));
            var layer = g.Mul(
                g.ReduceSum(g.Mul(difference, difference), keepDims: true, 1),
                g.Scalar($"{hint}.half", 0.5f)
            );
            var upsampled = g.ResizeBilinear(
                layer,
                tileHeight / stride,
                tileWidth / stride,
                tileHeight,
                tileWidth,
                $"{hint}.resize{i}"
            );
            map = map is null ? upsampled : g.Mul(map, upsampled);
        }

        return (map!, g.Reduce("ReduceMax", map!, keepDims: false, 1, 2, 3));
    }

    /// <summary><c>F.normalize(x, dim: 1)</c>: each position's channels divided by their norm, at least
    /// 1e-12.</summary>
    private static string Normalized(OnnxGraphBuilder g, string x, string hint) =>
        g.Div(x, g.Max(g.Reduce("ReduceL2", x, keepDims: true, 1), g.Scalar($"{hint}.epsilon", 1e-12f)));
}
