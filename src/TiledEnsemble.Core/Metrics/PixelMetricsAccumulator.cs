using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Metrics;

/// <summary>
/// Pixel-level metrics over a whole test set in fixed memory: AUROC and AUPRO from a streaming histogram of the map
/// values, F1 at a given threshold counted exactly, and the F1-adaptive pixel threshold.
/// </summary>
/// <remarks>
/// Memory is three arrays of <c>bins</c> doubles, whatever the number of images. Histogram curves consist of exact
/// points of the true curves taken at the bin edges; areas differ from the exact ones only through pairs of pixels that
/// fall in the same bin (see docs/metrics.md for the measured error). Ground-truth regions for AUPRO are the
/// 8-connected components of each image's mask.
/// </remarks>
public sealed class PixelMetricsAccumulator
{
    private const int Positive = 0;
    private const int Negative = 1;
    private const int RegionWeight = 2;
    private readonly StreamingHistogram _histogram;
    private double _tp;
    private double _fp;
    private double _fn;
    private long _regions;

    /// <summary>Creates an accumulator.</summary>
    /// <param name="threshold">Threshold for <see cref="F1"/> (<c>map ≥ threshold</c> is anomalous); null if F1 is
    /// not wanted.</param>
    /// <param name="fprLimit">AUPRO's false-positive-rate limit, in (0, 1].</param>
    /// <param name="bins">Histogram bins, a power of two; 65,536 by default.</param>
    public PixelMetricsAccumulator(
        double? threshold = null,
        double fprLimit = AnomalyMetrics.DefaultFprLimit,
        int bins = 1 << 16
    )
        : this(threshold, fprLimit, bins, StreamingHistogram.DefaultChunkSize) { }

    /// <summary>Creates an accumulator that bins <paramref name="chunkSize"/> values per step (tests use tiny
    /// chunks).</summary>
    internal PixelMetricsAccumulator(double? threshold, double fprLimit, int bins, long chunkSize)
    {
        AnomalyMetrics.CheckFprLimit(fprLimit);
        if (threshold is { } t && !double.IsFinite(t))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), t, "threshold must be finite.");
        }

        Threshold = threshold;
        FprLimit = fprLimit;
        _histogram = new StreamingHistogram(bins, 3, chunkSize);
    }

    /// <summary>The threshold used by <see cref="F1"/>.</summary>
    public double? Threshold { get; }

    /// <summary>AUPRO's false-positive-rate limit.</summary>
    public double FprLimit { get; }

    /// <summary>Pixels seen so far.</summary>
    public long PixelCount { get; private set; }

    /// <summary>Adds a batch of maps and ground-truth masks ([B, 1, H, W] or [B, H, W]).</summary>
    public void Update(Tensor maps, Tensor masks)
    {
        using var scope = NewDisposeScope();
        var (m, g, height, width) = AnomalyMetrics.PixelLayout(maps, masks);
        var truth = g.ne(Scalars.Zero);
        var hostTruth = truth.cpu().flatten().data<bool>().ToArray();
        var regionWeights = new double[hostTruth.Length];
        int pixels = height * width;
        for (int b = 0; b < m.shape[0]; b++)
        {
            var weights = AnomalyMetrics.RegionWeights(
                new ReadOnlySpan<bool>(hostTruth, b * pixels, pixels),
                height,
                width,
                out int regions
            );
            Array.Copy(weights, 0, regionWeights, b * pixels, pixels);
            _regions += regions;
        }

        var flatMaps = m.flatten();
        var flatTruth = truth.flatten();
        _histogram.Add(
            flatMaps,
            new Tensor?[]
            {
                flatTruth.to_type(ScalarType.Float32),
                flatTruth.logical_not().to_type(ScalarType.Float32),
                tensor(regionWeights, device: m.device),
            }
        );
        if (Threshold is { } t)
        {
            using var threshold = t.ToScalar();
            var predicted = flatMaps.ge(threshold);
            _tp += predicted.logical_and(flatTruth).sum().item<long>();
            _fp += predicted.logical_and(flatTruth.logical_not()).sum().item<long>();
            _fn += predicted.logical_not().logical_and(flatTruth).sum().item<long>();
        }

        PixelCount += flatMaps.numel();
    }

    /// <summary>Pixel AUROC; NaN when all pixels are of one class.</summary>
    public double Auroc() => _histogram.ToCurve(Positive, Negative).Auroc();

    /// <summary>Pixel AUPRO up to <see cref="FprLimit"/>, normalized by it; NaN without anomalous or without normal
    /// pixels.</summary>
    public double Aupro()
    {
        var curve = _histogram.ToCurve(RegionWeight, Negative);
        return curve.NormalizedAreaUpTo(FprLimit);
    }

    /// <summary>The pixel ROC curve, thinned to at most <paramref name="maxPoints"/> points.</summary>
    public CurvePoints RocCurve(int maxPoints = 512) => _histogram.ToCurve(Positive, Negative).Rates(maxPoints);

    /// <summary>The PRO curve (mean per-region overlap against pixel false-positive rate), thinned to at most
    /// <paramref name="maxPoints"/> points.</summary>
    public CurvePoints ProCurve(int maxPoints = 512) => _histogram.ToCurve(RegionWeight, Negative).Rates(maxPoints);

    /// <summary>Number of ground-truth regions seen.</summary>
    public long RegionCount => _regions;

    /// <summary>Pixel F1 at <see cref="Threshold"/>, counted exactly.</summary>
    /// <exception cref="InvalidOperationException">No threshold was given.</exception>
    public double F1() =>
        Threshold is null
            ? throw new InvalidOperationException("Pixel F1 needs a threshold; pass one to the constructor.")
            : AnomalyMetrics.F1FromCounts(_tp, _fp, _fn);

    /// <summary>The F1-maximising threshold among the bin edges, or null without anomalous pixels.</summary>
    public (double Threshold, double F1)? BestF1() => _histogram.ToCurve(Positive, Negative).BestF1();

    /// <summary>Smallest map value seen.</summary>
    public double MinValue => _histogram.MinScore;

    /// <summary>Largest map value seen.</summary>
    public double MaxValue => _histogram.MaxScore;
}
