using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Metrics;

/// <summary>
/// Exact metrics on tensors held in memory: image-level AUROC, AUPR, F1 and F1-adaptive threshold, and pixel-level
/// AUPRO. For pixel metrics over whole test sets use <see cref="PixelMetricsAccumulator"/>, whose memory is fixed.
/// </summary>
/// <remarks>Undefined results (AUROC with one class only, say) are <see cref="double.NaN"/>; inputs with NaN
/// throw.</remarks>
public static class AnomalyMetrics
{
    /// <summary>The default false-positive-rate limit of AUPRO.</summary>
    public const double DefaultFprLimit = 0.3;

    /// <summary>Area under the ROC curve; equal to the Mann–Whitney U statistic over (positives × negatives), ties
    /// counting one half.</summary>
    /// <param name="scores">Scores, any shape.</param>
    /// <param name="labels">Labels of the same number of elements (boolean or 0/1); true is anomalous.</param>
    public static double Auroc(Tensor scores, Tensor labels) => Curve(scores, labels).Auroc();

    /// <summary>Area under the precision–recall curve (trapezoids over recall).</summary>
    public static double Aupr(Tensor scores, Tensor labels) => Curve(scores, labels).Aupr();

    /// <summary>
    /// The share of anomalous samples caught (true-positive rate) at the best threshold that flags at most
    /// <paramref name="maxFpr"/> of the normal ones (<c>score ≥ threshold</c>; thresholds at the scores themselves,
    /// not interpolated). What an inspection line reads: the defective parts caught while rejecting 1 % of good ones.
    /// NaN for one class.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFpr"/> is outside [0, 1].</exception>
    public static double TprAtFpr(Tensor scores, Tensor labels, double maxFpr)
    {
        if (!(maxFpr >= 0 && maxFpr <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxFpr), maxFpr, "maxFpr must be in [0, 1].");
        }

        return Curve(scores, labels).TprAtFpr(maxFpr);
    }

    /// <summary>The ROC curve of scores against labels (every distinct score a point), thinned to at most
    /// <paramref name="maxPoints"/>.</summary>
    public static CurvePoints RocCurve(Tensor scores, Tensor labels, int maxPoints = 512) =>
        Curve(scores, labels).Rates(maxPoints);

    /// <summary>F1 of the prediction <c>score ≥ threshold</c>; 0 when there is no true and no predicted
    /// positive.</summary>
    public static double F1(Tensor scores, Tensor labels, double threshold)
    {
        var (s, l) = Host(scores, labels);
        double tp = 0,
            fp = 0,
            fn = 0;
        for (int i = 0; i < s.Length; i++)
        {
            bool predicted = s[i] >= threshold;
            tp += predicted && l[i] ? 1 : 0;
            fp += predicted && !l[i] ? 1 : 0;
            fn += !predicted && l[i] ? 1 : 0;
        }

        return F1FromCounts(tp, fp, fn);
    }

    /// <summary>
    /// The threshold that maximises F1 over the precision–recall curve (lowest on ties). Null when no sample is
    /// anomalous (F1 is undefined); callers then fall back to a documented rule.
    /// </summary>
    public static (double Threshold, double F1)? F1AdaptiveThreshold(Tensor scores, Tensor labels) =>
        Curve(scores, labels).BestF1();

    /// <summary>
    /// Area under the per-region overlap curve up to <paramref name="fprLimit"/>, divided by the limit. Regions are the
    /// 8-connected components of each ground-truth mask; the false-positive rate is over all normal pixels.
    /// </summary>
    /// <param name="maps">[B, 1, H, W] or [B, H, W] anomaly maps.</param>
    /// <param name="masks">Ground-truth masks of the same shape.</param>
    /// <param name="fprLimit">In (0, 1]; 0.3 by default.</param>
    public static double Aupro(Tensor maps, Tensor masks, double fprLimit = DefaultFprLimit)
    {
        CheckFprLimit(fprLimit);
        var (flatMaps, flatMasks, height, width) = PixelLayout(maps, masks);
        var (s, l) = Host(flatMaps, flatMasks);
        var positive = new double[s.Length];
        var negative = new double[s.Length];
        int images = s.Length / (height * width);
        for (int b = 0; b < images; b++)
        {
            var offset = b * height * width;
            var weights = RegionWeights(new ReadOnlySpan<bool>(l, offset, height * width), height, width, out _);
            for (int i = 0; i < weights.Length; i++)
            {
                positive[offset + i] = weights[i];
                negative[offset + i] = l[offset + i] ? 0 : 1;
            }
        }

        return BinaryCurve.Exact(s, positive, negative).NormalizedAreaUpTo(fprLimit);
    }

    internal static double F1FromCounts(double tp, double fp, double fn) => tp == 0 ? 0 : 2 * tp / ((2 * tp) + fp + fn);

    internal static void CheckFprLimit(double fprLimit)
    {
        if (!(fprLimit > 0 && fprLimit <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "fprLimit must be in (0, 1].");
        }
    }

    /// <summary>Per-pixel weight 1 / (size of its region) for mask pixels, 0 elsewhere.</summary>
    internal static double[] RegionWeights(ReadOnlySpan<bool> mask, int height, int width, out int regions)
    {
        var (labels, count) = ConnectedComponents.Label(mask, height, width);
        var sizes = new int[count + 1];
        foreach (var label in labels)
        {
            sizes[label]++;
        }

        var weights = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            weights[i] = labels[i] == 0 ? 0 : 1.0 / sizes[labels[i]];
        }

        regions = count;
        return weights;
    }

    internal static (Tensor Maps, Tensor Masks, int Height, int Width) PixelLayout(Tensor maps, Tensor masks)
    {
        TensorGuard.NotNull(maps, nameof(maps));
        TensorGuard.NotNull(masks, nameof(masks));
        if (maps.dim() == 4 && maps.shape[1] == 1)
        {
            maps = maps.squeeze(1);
        }

        if (masks.dim() == 4 && masks.shape[1] == 1)
        {
            masks = masks.squeeze(1);
        }

        TensorGuard.Rank(maps, 3, nameof(maps), "[B, 1, H, W] or [B, H, W]");
        if (!masks.shape.SequenceEqual(maps.shape))
        {
            throw new ArgumentException(
                $"masks {TensorGuard.Describe(masks)} must have the shape of maps {TensorGuard.Describe(maps)}.",
                nameof(masks)
            );
        }

        return (maps, masks, checked((int)maps.shape[1]), checked((int)maps.shape[2]));
    }

    private static BinaryCurve Curve(Tensor scores, Tensor labels)
    {
        var (s, l) = Host(scores, labels);
        return BinaryCurve.Exact(s, l.Select(x => x ? 1.0 : 0.0).ToArray(), l.Select(x => x ? 0.0 : 1.0).ToArray());
    }

    private static (double[] Scores, bool[] Labels) Host(Tensor scores, Tensor labels)
    {
        TensorGuard.NotNull(scores, nameof(scores));
        TensorGuard.NotNull(labels, nameof(labels));
        if (scores.numel() != labels.numel())
        {
            throw new ArgumentException(
                $"scores {TensorGuard.Describe(scores)} and labels {TensorGuard.Describe(labels)} must have the same "
                    + $"number of elements.",
                nameof(labels)
            );
        }

        using var scope = NewDisposeScope();
        var s = scores.flatten().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        for (int i = 0; i < s.Length; i++)
        {
            if (double.IsNaN(s[i]))
            {
                throw new ArgumentException(
                    $"scores contain NaN (first at flat index {i}); metrics are undefined for NaN. Check the model "
                        + $"output.",
                    nameof(scores)
                );
            }
        }

        var l = labels.flatten().ne(Scalars.Zero).cpu().data<bool>().ToArray();
        return (s, l);
    }
}
