using System;
using System.Collections.Generic;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Padim;

/// <summary>Padim's prediction as ONNX: the same embedding, Mahalanobis distances, resize and blur.</summary>
public sealed partial class PadimModel : IOnnxExportable
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
        if (_mean is null || _inverseCovariance is null)
        {
            throw NotFitted();
        }

        using var scope = NewDisposeScope();

        // Only the kept channels of each layer are gathered and upsampled (nearest, by the whole factors of ResNet's
        // strides), then concatenated and put in the order of the feature index: ChannelSelection.ByPosition's
        // embedding, moving 100 of ResNet-18's 448 channels through the graph instead of all of them.
        long first = BackboneNames.Stride(_options.Layers[0]);
        long h = tileHeight / first,
            w = tileWidth / first;
        var (perLayer, order) = ChannelSelection.Split(_featureIndex, LayerChannels());
        var selected = new List<string>();
        for (int i = 0; i < features.Count; i++)
        {
            if (perLayer[i].Length == 0)
            {
                continue;
            }

            long factor = BackboneNames.Stride(_options.Layers[i]) / first;
            var kept = g.Gather(features[i], g.Ints($"{hint}.{_options.Layers[i]}_channels", perLayer[i]), 1);
            selected.Add(factor == 1 ? kept : g.UpsampleNearest(kept, factor, factor));
        }

        var embedding = selected.Count == 1 ? selected[0] : g.Concat(1, selected.ToArray());
        if (order is not null)
        {
            embedding = g.Gather(embedding, g.Ints($"{hint}.feature_order", order), 1);
        }

        // [N, C', h, w] → [hw, N, C'] minus the mean of each position; d² = δᵀ Σ⁻¹ δ per position and image.
        long channels = _featureIndex.Length;
        var byPosition = g.Transpose(g.Reshape(embedding, 0, channels, h * w), 2, 0, 1);
        var mean = g.Initializer($"{hint}.mean", _mean.t().unsqueeze(1)); // [hw, 1, C']
        var delta = g.Sub(byPosition, mean);
        var product = g.MatMul(delta, g.Initializer($"{hint}.inverse_covariance", _inverseCovariance));
        var squared = g.ReduceSum(g.Mul(product, delta), keepDims: false, 2); // [hw, N]
        var distances = g.Sqrt(g.Max(squared, g.Scalar($"{hint}.zero", 0f)));
        var grid = g.Reshape(g.Transpose(distances, 1, 0), -1, 1, h, w);
        var maps = _mapResize.Export(g, grid, h, w, tileHeight, tileWidth, $"{hint}.map");
        return (maps, g.Reduce("ReduceMax", maps, keepDims: false, 1, 2, 3));
    }
}
