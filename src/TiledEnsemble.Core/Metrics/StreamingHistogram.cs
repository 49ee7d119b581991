using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Metrics;

/// <summary>
/// Fixed-memory histogram of scores with several weight channels, whose range grows by doubling (merging bin pairs) as
/// values outside it arrive, so no range needs to be known in advance and memory never grows with the data.
/// </summary>
/// <remarks>
/// Bin <c>k</c> holds the values in <c>[lo + k·w, lo + (k+1)·w)</c>. Counting "score ≥ lo + k·w" from bins is
/// exact, so a curve read from the histogram consists of exact points of the true curve, taken at the bin edges: only
/// points between edges are missing, which makes areas differ from the exact ones by at most the weight of pairs that
/// share a bin.
/// </remarks>
internal sealed class StreamingHistogram
{
    private readonly int _bins;
    private readonly double[][] _channels;
    private readonly long _chunkSize;
    private double _lo;
    private double _width;
    private bool _initialised;

    /// <param name="bins">Bins per channel, a power of two.</param>
    /// <param name="channels">Weight channels.</param>
    /// <param name="chunkSize">Values binned per step (an instance setting, so that parallel users never see another's
    /// change half-way through a batch).</param>
    public StreamingHistogram(int bins, int channels, long chunkSize = DefaultChunkSize)
    {
        if (bins < 2 || (bins & (bins - 1)) != 0)
        {
            throw new ArgumentException($"bins must be a power of two of at least 2; got {bins}.", nameof(bins));
        }

        if (chunkSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunkSize must be positive.");
        }

        _bins = bins;
        _chunkSize = chunkSize;
        _channels = new double[channels][];
        for (int c = 0; c < channels; c++)
        {
            _channels[c] = new double[bins];
        }

        MinScore = double.PositiveInfinity;
        MaxScore = double.NegativeInfinity;
    }

    public double MinScore { get; private set; }

    public double MaxScore { get; private set; }

    /// <summary>Values binned per step by default; bounds the float64 and int64 temporaries whatever the batch
    /// size.</summary>
    internal const long DefaultChunkSize = 1 << 20;

    /// <summary>Adds scores [n] with one weight tensor [n] (or null for weight 1) per channel.</summary>
    public void Add(Tensor scores, IReadOnlyList<Tensor?> weights)
    {
        if (scores.numel() == 0)
        {
            return;
        }

        double low,
            high;
        using (var scope = NewDisposeScope())
        {
            low = scores.min().to_type(ScalarType.Float64).item<double>();
            high = scores.max().to_type(ScalarType.Float64).item<double>();
        }

        if (double.IsNaN(low) || double.IsNaN(high) || double.IsInfinity(low) || double.IsInfinity(high))
        {
            throw new ArgumentException(
                "Scores contain NaN or infinite values; metrics are undefined for them. Check the model output.",
                nameof(scores)
            );
        }

        Fit(low, high);
        MinScore = Math.Min(MinScore, low);
        MaxScore = Math.Max(MaxScore, high);
        long total = scores.numel();
        using var lo = _lo.ToScalar();
        using var width = _width.ToScalar();
        using var lastBin = (_bins - 1).ToScalar();
        for (long start = 0; start < total; start += _chunkSize)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(_chunkSize, total - start);
            var index = scores
                .narrow(0, start, count)
                .to_type(ScalarType.Float64)
                .sub_(lo)
                .div_(width)
                .floor_()
                .clamp_(Scalars.Zero, lastBin)
                .to_type(ScalarType.Int64);
            for (int c = 0; c < _channels.Length; c++)
            {
                var weight = weights[c]?.narrow(0, start, count);
                var counts = weight is null
                    ? bincount(index, null, _bins).to_type(ScalarType.Float64)
                    : bincount(index, weight.to_type(ScalarType.Float64), _bins);
                var host = counts.cpu().data<double>().ToArray();
                var channel = _channels[c];
                for (int k = 0; k < _bins; k++)
                {
                    channel[k] += host[k];
                }
            }
        }
    }

    /// <summary>The curve with positives from channel <paramref name="positive"/> and negatives from
    /// <paramref name="negative"/>.</summary>
    public BinaryCurve ToCurve(int positive, int negative)
    {
        var thresholds = new List<double>();
        var tp = new List<double>();
        var fp = new List<double>();
        double p = 0,
            n = 0;
        for (int k = _bins - 1; k >= 0; k--)
        {
            double dp = _channels[positive][k],
                dn = _channels[negative][k];
            if (dp == 0 && dn == 0)
            {
                continue;
            }

            p += dp;
            n += dn;
            thresholds.Add(k == 0 ? Math.Min(_lo, MinScore) : _lo + (k * _width));
            tp.Add(p);
            fp.Add(n);
        }

        return new BinaryCurve(thresholds.ToArray(), tp.ToArray(), fp.ToArray(), p, n, MinScore, MaxScore);
    }

    private void Fit(double low, double high)
    {
        if (!_initialised)
        {
            double span = high - low;
            _lo = low;
            _width = span > 0 ? span / (_bins - 1) : Math.Max(Math.Abs(low), 1.0) * 1e-6;
            _initialised = true;
        }

        while (high >= _lo + (_bins * _width))
        {
            Merge(shiftUp: false);
        }

        while (low < _lo)
        {
            Merge(shiftUp: true);
        }
    }

    /// <summary>Doubles the bin width. Without shift the range grows upwards; with it, downwards (old bins move to the
    /// upper half).</summary>
    private void Merge(bool shiftUp)
    {
        int half = _bins / 2;
        foreach (var channel in _channels)
        {
            var merged = new double[_bins];
            for (int k = 0; k < _bins; k++)
            {
                merged[(shiftUp ? half : 0) + (k / 2)] += channel[k];
            }

            Array.Copy(merged, channel, _bins);
        }

        if (shiftUp)
        {
            _lo -= _bins * _width;
        }

        _width *= 2;
    }
}
