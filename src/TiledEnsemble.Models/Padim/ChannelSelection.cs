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
    /// Splits <paramref name="featureIndex"/> (indices into the concatenation of layers with
    /// <paramref name="layerChannels"/>
    /// channels) per layer; throws when an index is out of range or repeated.
    /// </summary>
    public static ChannelSelection Create(long[] featureIndex, IReadOnlyList<long> layerChannels, Device device)
    {
        var (perLayer, order) = Split(featureIndex, layerChannels);
        // Owned by the selection, not by any dispose scope of the caller.
        return new ChannelSelection(
            perLayer.Select(kept => tensor(kept, device: device).DetachFromDisposeScope()).ToArray(),
            order is null ? null : tensor(order, device: device).DetachFromDisposeScope()
        );
    }

    /// <summary>
    /// The kept channels of each layer (numbered within the layer, in index order), and the permutation that puts the
    /// layers' kept channels, concatenated, back in the order of <paramref name="featureIndex"/> (null when they
    /// already are: a sorted index).
    /// </summary>
    public static (long[][] PerLayer, long[]? Order) Split(long[] featureIndex, IReadOnlyList<long> layerChannels)
    {
        long total = layerChannels.Sum();
        var bad = featureIndex.FirstOrDefault(i => i < 0 || i >= total, -1);
        if (bad != -1 || featureIndex.Distinct().Count() != featureIndex.Length)
        {
            throw new ArgumentException(
                $"Padim's feature_index must hold distinct channel numbers in 0..{total - 1}; found "
                    + $"{(bad != -1 ? $"{bad}" : "a repeated one")}.",
                nameof(featureIndex)
            );
        }

        var perLayer = new long[layerChannels.Count][];
        var positions = new List<long>();
        long offset = 0;
        for (int layer = 0; layer < layerChannels.Count; layer++)
        {
            long start = offset,
                end = offset + layerChannels[layer];
            var kept = featureIndex
                .Select((channel, position) => (channel, position))
                .Where(p => p.channel >= start && p.channel < end)
                .ToArray();
            perLayer[layer] = kept.Select(p => p.channel - start).ToArray();
            positions.AddRange(kept.Select(p => (long)p.position));
            offset = end;
        }

        // Channels come out grouped by layer, in index order within each layer; put them back in the index's order.
        if (positions.Select((p, i) => p == i).All(x => x))
        {
            return (perLayer, null);
        }

        var inverse = new long[positions.Count];
        for (int i = 0; i < positions.Count; i++)
        {
            inverse[positions[i]] = i;
        }

        return (perLayer, inverse);
    }

    /// <summary>The selected channels [B, C', h, w] of <paramref name="features"/>, at the first layer's
    /// resolution.</summary>
    /// <param name="features">The layers' outputs, in the order of the layers.</param>
    /// <param name="preselected">The position of a layer whose output already holds only its kept channels (the
    /// backbone computed just those), or −1.</param>
    /// <returns>A view of <see cref="ByPosition"/>'s result.</returns>
    public Tensor Apply(IReadOnlyList<Tensor> features, int preselected = -1)
    {
        using var scope = NewDisposeScope();
        long height = features[0].shape[2],
            width = features[0].shape[3];
        var byPosition = ByPosition(features, preselected); // [hw, B, C']
        return byPosition.permute(1, 2, 0).unflatten(2, new[] { height, width }).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The selected channels of <paramref name="features"/> as one row per feature position and image: [h·w, B, C'],
    /// contiguous, the layout of Padim's per-position statistics.
    /// </summary>
    /// <remarks>
    /// Written straight into that layout, upsampling included, from each layer's channels-last view (the backbone's
    /// layout on the CPU): every copy moves rows of channels. Building [B, C', h, w] first and transposing it
    /// afterwards strided through memory one float at a time, the slowest step of Padim's prediction after the
    /// backbone.
    /// </remarks>
    public Tensor ByPosition(IReadOnlyList<Tensor> features, int preselected = -1)
    {
        using var scope = NewDisposeScope();
        var first = features[0];
        long batch = first.shape[0],
            height = first.shape[2],
            width = first.shape[3];
        long total = _perLayer.Sum(t => t.shape[0]);
        var result = empty(new[] { height, width, batch, total }, first.dtype, first.device);
        long offset = 0;
        for (int i = 0; i < features.Count; i++)
        {
            var rows = features[i].permute(0, 2, 3, 1); // [B, h_i, w_i, C_i]
            var selected = i == preselected ? rows : rows.index_select(3, _perLayer[i]);
            long channels = selected.shape[3],
                h = selected.shape[1],
                w = selected.shape[2];
            var target = result.narrow(3, offset, channels); // [h, w, B, c]
            var source = selected.permute(1, 2, 0, 3); // [h_i, w_i, B, c]
            if (h == height && w == width)
            {
                target.copy_(source);
            }
            else if (height % h == 0 && width % w == 0)
            {
                // Nearest upsampling by whole factors (ResNet layers: 2 and 4) as a broadcast in the copy: equal to
                // libtorch's nearest interpolation (source index ⌊i / factor⌋).
                long fh = height / h,
                    fw = width / w;
                target
                    .view(h, fh, w, fw, batch, channels)
                    .copy_(source.unsqueeze(1).unsqueeze(3).expand(h, fh, w, fw, batch, channels));
            }
            else
            {
                var upsampled = F.interpolate(
                    selected.permute(0, 3, 1, 2),
                    new[] { height, width },
                    mode: InterpolationMode.Nearest
                );
                target.copy_(upsampled.permute(2, 3, 0, 1));
            }

            offset += channels;
        }

        var flat = result.view(height * width, batch, total);
        return (_order is null ? flat : flat.index_select(2, _order)).MoveToOuterDisposeScope();
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
}
