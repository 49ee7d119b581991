using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Patchcore;

/// <summary>
/// Patchcore's prediction as ONNX: the same patch features, the exact nearest-neighbour search over the whole memory
/// bank (one matrix product), the re-weighted image score and the resized, blurred map.
/// </summary>
public sealed partial class PatchcoreModel : IOnnxExportable
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
        var bank = _memoryBank ?? throw NotFitted();
        using var scope = NewDisposeScope();

        // Locally aware patch features: 3×3 average pooling, the deeper layers resized bilinearly to the first's grid.
        long first = BackboneNames.Stride(_options.Layers[0]);
        long h = tileHeight / first,
            w = tileWidth / first;
        var pooled = features
            .Select(
                (f, i) =>
                {
                    var p = g.AveragePool(f, 3, 1, 1);
                    long stride = BackboneNames.Stride(_options.Layers[i]);
                    return stride == first
                        ? p
                        : g.ResizeBilinear(p, tileHeight / stride, tileWidth / stride, h, w, $"{hint}.resize{i}");
                }
            )
            .ToArray();
        long channels = _options.Channels;
        var patches3 = g.Reshape(g.Transpose(g.Concat(1, pooled), 0, 2, 3, 1), -1, h * w, channels); // [N, hw, C]
        var patches = g.Reshape(patches3, -1, channels); // [N·hw, C]

        // ‖q − b‖² = ‖b‖² − 2·q·b + ‖q‖², the minimum over the bank, then the square root.
        var memory = g.Initializer($"{hint}.memory_bank", bank);
        var memoryT = g.Initializer($"{hint}.memory_bank_t", bank.t());
        var bankNorms = g.Initializer($"{hint}.bank_norms", _bankNorms!);
        var two = g.Scalar($"{hint}.minus_two", -2f);
        var partial = g.Add(bankNorms, g.Mul(g.MatMul(patches, memoryT), two)); // [N·hw, M]
        var nearest = g.ArgExtreme("ArgMin", partial, 1, keepDims: false);
        var queryNorms = g.ReduceSum(g.Mul(patches, patches), keepDims: false, 1);
        var zero = g.Scalar($"{hint}.zero", 0f);
        var distance = g.Sqrt(g.Max(g.Add(g.Reduce("ReduceMin", partial, keepDims: false, 1), queryNorms), zero));
        var patchScores = g.Reshape(distance, -1, h * w); // [N, hw]
        var nearestByImage = g.Reshape(nearest, -1, h * w);
        var maps = _mapResize.Export(
            g,
            g.Reshape(patchScores, -1, 1, h, w),
            h,
            w,
            tileHeight,
            tileWidth,
            $"{hint}.map"
        );
        long neighbours = Math.Min(_options.NumNeighbors, bank.shape[0]);
        if (neighbours == 1)
        {
            return (maps, g.Reduce("ReduceMax", patchScores, keepDims: false, 1));
        }

        // Re-weighting (paper, eq. 7) as PatchcoreModel.Predict does it.
        var worst = g.ArgExtreme("ArgMax", patchScores, 1, keepDims: true); // [N, 1]
        var worstScore = g.Squeeze(g.GatherElements(patchScores, worst, 1), 1);
        var anchor = g.Gather(memory, g.Squeeze(g.GatherElements(nearestByImage, worst, 1), 1), 0); // [N, C]
        var worstFeature = g.GatherElements(
            patches3,
            g.Node("Expand", new[] { g.Unsqueeze(worst, 2), g.Ints($"{hint}.feature_shape", 1, 1, channels) }),
            1
        );
        var anchorNorms = g.ReduceSum(g.Mul(anchor, anchor), keepDims: true, 1);
        var anchorDistances = g.Sqrt(
            g.Max(
                g.Add(g.Add(anchorNorms, g.Mul(g.MatMul(anchor, memoryT), two)), bankNorms),
                g.Scalar($"{hint}.tiny", 1e-30f)
            )
        );
        var support = g.TopK(anchorDistances, neighbours, 1, largest: false).Indices; // [N, k]
        var difference = g.Sub(worstFeature, g.Gather(memory, support, 0)); // [N, k, C]
        var supportDistances = g.Sqrt(g.ReduceSum(g.Mul(difference, difference), keepDims: false, 2)); // [N, k]
        var nearestWeight = g.Squeeze(
            g.Slice(g.Softmax(supportDistances, 1), new long[] { 0 }, new long[] { 1 }, new long[] { 1 }),
            1
        );
        var scores = g.Mul(g.Sub(g.Scalar($"{hint}.one", 1f), nearestWeight), worstScore);
        return (maps, scores);
    }
}
