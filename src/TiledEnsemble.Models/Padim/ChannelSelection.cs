using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Padim;

/// <summary>
/// Padim's fixed subset of channels out of the concatenated layer outputs, applied per layer: only the kept channels of
/// each layer are gathered and upsampled, then put in the order of the feature index.
/// </summary>
/// <remarks>
/// Equal to "upsample every layer, concatenate, select" but moves a fraction of the data (100 of 448 channels for
/// ResNet-18). The split per layer is computed once here, not on every prediction; with a sorted index (what a new
/// model draws) no reordering is needed at all.
/// </remarks>
internal sealed class ChannelSelection : IDisposable
{
    private readonly Tensor[] _perLayer;
    private readonly Tensor? _order;

    private ChannelSelection(Tensor[] perLayer, Tensor? order)
    {
        _perLayer = perLayer;
        _order = order;
    }

    /// <summary>The kept channels of each layer (numbered within the layer), in the order of the layers.</summary>
    public IReadOnlyList<Tensor> PerLayer => _perLayer;

    /// <summary>
    /// Splits <paramref name="featureIndex"/> (indices into the concatenation of layers with <paramref name="layerChannels"/>
    /// channels) per layer; throws when an index is out of range or repeated.
    /// </summary>
    public static ChannelSelection Create(long[] featureIndex, IReadOnlyList<long> layerChannels, Device device)
    {
        long total = layerChannels.Sum();
        var bad = featureIndex.FirstOrDefault(i => i < 0 || i >= total, -1);
        if (bad != -1 || featureIndex.Distinct().Count() != featureIndex.Length)
        {
            throw new ArgumentException($"Padim's feature_index must hold distinct channel numbers in 0..{total - 1}; found {(bad != -1 ? $"{bad}" : "a repeated one")}.", nameof(featureIndex));
        }

        var perLayer = new Tensor[layerChannels.Count];
        var positions = new List<long>();
        long offset = 0;
        for (int layer = 0; layer < layerChannels.Count; layer++)
        {
            long start = offset, end = offset + layerChannels[layer];
            var kept = featureIndex.Select((channel, position) => (channel, position)).Where(p => p.channel >= start && p.channel < end).ToArray();
            // Owned by the selection, not by any dispose scope of the caller.
            perLayer[layer] = tensor(kept.Select(p => p.channel - start).ToArray(), device: device).DetachFromDisposeScope();
            positions.AddRange(kept.Select(p => (long)p.position));
            offset = end;
        }

        // Channels come out grouped by layer, in index order within each layer; put them back in the index's order.
        bool inOrder = positions.Select((p, i) => p == i).All(x => x);
        Tensor? order = null;
        if (!inOrder)
        {
            var inverse = new long[positions.Count];
            for (int i = 0; i < positions.Count; i++)
            {
                inverse[positions[i]] = i;
            }

            order = tensor(inverse, device: device).DetachFromDisposeScope();
        }

        return new ChannelSelection(perLayer, order);
    }

    /// <summary>The selected channels [B, C', h, w] of <paramref name="features"/>, at the first layer's resolution.</summary>
    /// <param name="features">The layers' outputs, in the order of the layers.</param>
    /// <param name="preselected">The position of a layer whose output already holds only its kept channels (the
    /// backbone computed just those), or −1.</param>
    public Tensor Apply(IReadOnlyList<Tensor> features, int preselected = -1)
    {
        using var scope = NewDisposeScope();
        long height = features[0].shape[2], width = features[0].shape[3];
        var parts = new Tensor[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            var selected = i == preselected ? features[i] : features[i].index_select(1, _perLayer[i]);
            parts[i] = i == 0 ? selected : UpsampleNearest(selected, height, width);
        }

        var joined = cat(parts, 1);
        return (_order is null ? joined : joined.index_select(1, _order)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _perLayer)
        {
            t.Dispose();
        }

        _order?.Dispose();
    }

    /// <summary>
    /// Nearest-neighbour upsampling; for whole-number factors (ResNet layers: 2 and 4) as one broadcast copy, which equals
    /// libtorch's nearest interpolation (source index ⌊i / factor⌋) and is about twice as fast on the CPU.
    /// </summary>
    private static Tensor UpsampleNearest(Tensor x, long height, long width)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        if (height % h != 0 || width % w != 0)
        {
            return F.interpolate(x, new[] { height, width }, mode: InterpolationMode.Nearest);
        }

        using var scope = NewDisposeScope();
        long fh = height / h, fw = width / w;
        var spread = x.reshape(b, c, h, 1, w, 1).expand(b, c, h, fh, w, fw);
        return spread.reshape(b, c, height, width).MoveToOuterDisposeScope();
    }
}
