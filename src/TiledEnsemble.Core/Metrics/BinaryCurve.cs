using System;
using System.Collections.Generic;

namespace TiledEnsemble.Metrics;

/// <summary>
/// A threshold-parameterised classification curve: for thresholds in descending order, the cumulative positive weight
/// and negative weight of the samples scoring at or above each threshold. Every curve metric (ROC, PR, PRO, F1) is read
/// from it. Positive weights are 1 per positive sample for ROC/PR and <c>1 / region size</c> for PRO.
/// </summary>
internal sealed class BinaryCurve
{
    private readonly double[] _thresholds;
    private readonly double[] _positive;
    private readonly double[] _negative;

    public BinaryCurve(
        double[] thresholds,
        double[] cumulativePositive,
        double[] cumulativeNegative,
        double totalPositive,
        double totalNegative,
        double minScore,
        double maxScore
    )
    {
        _thresholds = thresholds;
        _positive = cumulativePositive;
        _negative = cumulativeNegative;
        TotalPositive = totalPositive;
        TotalNegative = totalNegative;
        MinScore = minScore;
        MaxScore = maxScore;
    }

    public double TotalPositive { get; }

    public double TotalNegative { get; }

    public double MinScore { get; }

    public double MaxScore { get; }

    public int Count => _thresholds.Length;

    /// <summary>Builds the exact curve of scored samples; ties share one point.</summary>
    public static BinaryCurve Exact(double[] scores, double[] positiveWeight, double[] negativeWeight)
    {
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = (double[])scores.Clone();
        Array.Sort(keys, order);
        var thresholds = new List<double>();
        var positive = new List<double>();
        var negative = new List<double>();
        double tp = 0,
            fp = 0;
        for (int k = order.Length - 1; k >= 0; k--)
        {
            tp += positiveWeight[order[k]];
            fp += negativeWeight[order[k]];
            if (k == 0 || keys[k - 1] != keys[k])
            {
                thresholds.Add(keys[k]);
                positive.Add(tp);
                negative.Add(fp);
            }
        }

        double min = keys.Length > 0 ? keys[0] : double.NaN;
        double max = keys.Length > 0 ? keys[^1] : double.NaN;
        return new BinaryCurve(thresholds.ToArray(), positive.ToArray(), negative.ToArray(), tp, fp, min, max);
    }

    /// <summary>Area under the ROC curve; equals the Mann–Whitney statistic with ties counted as one half. NaN for
    /// one class.</summary>
    public double Auroc()
    {
        if (TotalPositive <= 0 || TotalNegative <= 0)
        {
            return double.NaN;
        }

        double area = 0,
            previousX = 0,
            previousY = 0;
        for (int k = 0; k < Count; k++)
        {
            double x = _negative[k] / TotalNegative;
            double y = _positive[k] / TotalPositive;
            area += (x - previousX) * (y + previousY) / 2;
            previousX = x;
            previousY = y;
        }

        return area;
    }

    /// <summary>Area under the precision–recall curve (trapezoids over recall, starting at recall 0 and precision 1).
    /// NaN without positives.</summary>
    public double Aupr()
    {
        if (TotalPositive <= 0)
        {
            return double.NaN;
        }

        double area = 0,
            previousRecall = 0,
            previousPrecision = 1;
        for (int k = 0; k < Count; k++)
        {
            double recall = _positive[k] / TotalPositive;
            double precision = _positive[k] / (_positive[k] + _negative[k]);
            area += (recall - previousRecall) * (precision + previousPrecision) / 2;
            previousRecall = recall;
            previousPrecision = precision;
        }

        return area;
    }

    /// <summary>
    /// The largest share of positive weight caught by a threshold among the scores (or one above them all) whose
    /// false-positive rate is at most <paramref name="maxFpr"/>: no interpolation between thresholds, since only an
    /// actual threshold can be set. NaN for one class.
    /// </summary>
    public double TprAtFpr(double maxFpr)
    {
        if (TotalPositive <= 0 || TotalNegative <= 0)
        {
            return double.NaN;
        }

        double best = 0;
        for (int k = 0; k < Count && _negative[k] / TotalNegative <= maxFpr; k++)
        {
            best = Math.Max(best, _positive[k] / TotalPositive);
        }

        return best;
    }

    /// <summary>
    /// The curve's points as (false-positive rate, positive weight share), from (0, 0), thinned to at most
    /// <paramref name="maxPoints"/> evenly spaced points (the last kept); empty arrays for one class.
    /// </summary>
    public CurvePoints Rates(int maxPoints)
    {
        if (TotalPositive <= 0 || TotalNegative <= 0 || maxPoints < 2)
        {
            return new CurvePoints(Array.Empty<double>(), Array.Empty<double>());
        }

        int step = Math.Max(1, (int)Math.Ceiling(Count / (double)(maxPoints - 1)));
        var x = new List<double> { 0 };
        var y = new List<double> { 0 };
        for (int k = 0; k < Count; k += step)
        {
            x.Add(_negative[k] / TotalNegative);
            y.Add(_positive[k] / TotalPositive);
        }

        if ((Count - 1) % step != 0)
        {
            x.Add(_negative[Count - 1] / TotalNegative);
            y.Add(_positive[Count - 1] / TotalPositive);
        }

        return new CurvePoints(x.ToArray(), y.ToArray());
    }

    /// <summary>
    /// Area under the curve of (false-positive rate, positive weight share) up to <paramref name="fprLimit"/>, divided
    /// by the limit; with per-region weights this is AUPRO. The curve is interpolated linearly at the limit. NaN for
    /// one class.
    /// </summary>
    public double NormalizedAreaUpTo(double fprLimit)
    {
        if (TotalPositive <= 0 || TotalNegative <= 0)
        {
            return double.NaN;
        }

        double area = 0,
            previousX = 0,
            previousY = 0;
        for (int k = 0; k < Count; k++)
        {
            double x = _negative[k] / TotalNegative;
            double y = _positive[k] / TotalPositive;
            if (x >= fprLimit)
            {
                double yAtLimit =
                    x == previousX ? y : previousY + ((y - previousY) * (fprLimit - previousX) / (x - previousX));
                area += (fprLimit - previousX) * (yAtLimit + previousY) / 2;
                return area / fprLimit;
            }

            area += (x - previousX) * (y + previousY) / 2;
            previousX = x;
            previousY = y;
        }

        return area / fprLimit;
    }

    /// <summary>
    /// The threshold with maximal F1 (<c>2TP / (2TP + FP + FN)</c>, equal to <c>2PR / (P + R)</c>), the lowest such
    /// threshold on ties, as anomalib's F1AdaptiveThreshold picks. Null when there are no positives or no points.
    /// </summary>
    public (double Threshold, double F1)? BestF1()
    {
        if (TotalPositive <= 0 || Count == 0)
        {
            return null;
        }

        double bestF1 = -1,
            bestThreshold = double.NaN;
        for (int k = 0; k < Count; k++)
        {
            double tp = _positive[k],
                fp = _negative[k],
                fn = TotalPositive - tp;
            double f1 = 2 * tp / ((2 * tp) + fp + fn);
            if (f1 >= bestF1)
            {
                bestF1 = f1;
                bestThreshold = _thresholds[k];
            }
        }

        return (bestThreshold, bestF1);
    }
}

/// <summary>Points of a rate curve: false-positive rate and true-positive rate (per-region overlap for PRO),
/// ascending.</summary>
/// <param name="FalsePositiveRate">x values in [0, 1].</param>
/// <param name="TruePositiveRate">y values in [0, 1].</param>
public sealed record CurvePoints(double[] FalsePositiveRate, double[] TruePositiveRate);
