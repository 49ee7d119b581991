using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Metrics;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Metrics;

public class AnomalyMetricsTests
{
    private static (float[] Scores, bool[] Labels) RandomWithTies(int seed, int count, int levels)
    {
        var random = new Random(seed);
        var scores = new float[count];
        var labels = new bool[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.NextDouble() < 0.3;
            scores[i] = (random.Next(levels) + (labels[i] ? 2 : 0)) / (float)levels;
        }

        labels[0] = true;
        labels[1] = false;
        return (scores, labels);
    }

    /// <summary>Mann–Whitney by counting every (positive, negative) pair; ties count one half.</summary>
    private static double BruteForceAuroc(float[] s, bool[] l)
    {
        double wins = 0,
            pairs = 0;
        for (int i = 0; i < s.Length; i++)
        {
            for (int j = 0; j < s.Length; j++)
            {
                if (l[i] && !l[j])
                {
                    pairs++;
                    wins +=
                        s[i] > s[j] ? 1
                        : s[i] == s[j] ? 0.5
                        : 0;
                }
            }
        }

        return wins / pairs;
    }

    private static (double Tp, double Fp, double Fn) Count(float[] s, bool[] l, double t)
    {
        double tp = 0,
            fp = 0,
            fn = 0;
        for (int i = 0; i < s.Length; i++)
        {
            tp += s[i] >= t && l[i] ? 1 : 0;
            fp += s[i] >= t && !l[i] ? 1 : 0;
            fn += s[i] < t && l[i] ? 1 : 0;
        }

        return (tp, fp, fn);
    }

    [Theory]
    [InlineData(1, 40, 5)]
    [InlineData(2, 200, 10)]
    [InlineData(3, 500, 1000)]
    [InlineData(4, 30, 1)]
    public void AurocEqualsMannWhitneyPairCountingWithTies(int seed, int count, int levels)
    {
        using var scope = NewDisposeScope();
        var (s, l) = RandomWithTies(seed, count, levels);
        Assert.Equal(BruteForceAuroc(s, l), AnomalyMetrics.Auroc(tensor(s), tensor(l)), 12);
    }

    [Fact]
    public void AurocOfHandExample()
    {
        using var scope = NewDisposeScope();

        // Positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4)=1, (0.8>0.1)=1, (0.4=0.4)=0.5, (0.4>0.1)=1 -> 3.5/4.
        Assert.Equal(
            0.875,
            AnomalyMetrics.Auroc(tensor(new[] { 0.8f, 0.4f, 0.4f, 0.1f }), tensor(new long[] { 1, 1, 0, 0 })),
            12
        );
    }

    [Theory]
    [InlineData(5, 60, 6)]
    [InlineData(6, 300, 50)]
    public void F1AdaptiveThresholdMaximisesF1OverEveryCandidate(int seed, int count, int levels)
    {
        using var scope = NewDisposeScope();
        var (s, l) = RandomWithTies(seed, count, levels);
        double bestF1 = -1,
            bestThreshold = double.NaN;
        foreach (var t in s.Select(v => (double)v).Distinct().OrderBy(v => v))
        {
            var (tp, fp, fn) = Count(s, l, t);
            double precision = tp / (tp + fp),
                recall = tp / (tp + fn);
            double f1 = 2 * precision * recall / (precision + recall + 1e-10);
            if (double.IsNaN(f1))
            {
                f1 = 0;
            }

            if (f1 > bestF1 + 1e-12)
            {
                bestF1 = f1;
                bestThreshold = t;
            }
        }

        var result = AnomalyMetrics.F1AdaptiveThreshold(tensor(s), tensor(l));
        Assert.NotNull(result);
        Assert.Equal(bestThreshold, result.Value.Threshold, 6);
        Assert.Equal(bestF1, result.Value.F1, 6);
        Assert.Equal(bestF1, AnomalyMetrics.F1(tensor(s), tensor(l), result.Value.Threshold), 6);
    }

    [Fact]
    public void AuprMatchesTrapezoidsOverBruteForcePrecisionRecallPoints()
    {
        using var scope = NewDisposeScope();
        var (s, l) = RandomWithTies(8, 120, 12);
        var points = new List<(double Recall, double Precision)> { (0, 1) };
        foreach (var t in s.Select(v => (double)v).Distinct().OrderByDescending(v => v))
        {
            var (tp, fp, fn) = Count(s, l, t);
            points.Add((tp / (tp + fn), tp / (tp + fp)));
        }

        double area = 0;
        for (int k = 1; k < points.Count; k++)
        {
            area += (points[k].Recall - points[k - 1].Recall) * (points[k].Precision + points[k - 1].Precision) / 2;
        }

        Assert.Equal(area, AnomalyMetrics.Aupr(tensor(s), tensor(l)), 12);
    }

    [Fact]
    public void AuproOfHandBuiltExample()
    {
        using var scope = NewDisposeScope();

        // One 1x10 image. Regions: pixels {0,1} and {5}. Normal pixels: 7.
        // Curve (FPR, PRO): (0,0) (0,.25) (0,.75) (1/7,.75) (1/7,1) (1,1); area to 0.3 = .75/7 + (0.3 - 1/7).
        var maps = tensor(new float[] { 0.9f, 0.5f, 0.7f, 0.1f, 0.1f, 0.8f, 0.1f, 0.1f, 0.1f, 0.1f })
            .reshape(1, 1, 1, 10);
        var masks = tensor(new float[] { 1, 1, 0, 0, 0, 1, 0, 0, 0, 0 }).reshape(1, 1, 1, 10);
        double expected = ((0.75 / 7) + (0.3 - (1.0 / 7))) / 0.3;
        Assert.Equal(expected, AnomalyMetrics.Aupro(maps, masks), 12);
        Assert.Equal(0.880952380952381, expected, 12);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void AuproMatchesDirectPerThresholdComputation(int seed)
    {
        using var scope = NewDisposeScope();
        var random = new Random(seed);
        int b = 3,
            h = 12,
            w = 12;
        var mask = new float[b * h * w];
        var map = new float[b * h * w];
        for (int i = 0; i < 5; i++)
        {
            int image = random.Next(b),
                y = random.Next(h - 3),
                x = random.Next(w - 3);
            for (int dy = 0; dy < 1 + random.Next(3); dy++)
            {
                for (int dx = 0; dx < 1 + random.Next(3); dx++)
                {
                    mask[(image * h * w) + ((y + dy) * w) + x + dx] = 1;
                }
            }
        }

        for (int i = 0; i < map.Length; i++)
        {
            map[i] = (float)Math.Round(random.NextDouble() + (mask[i] * 0.6), 2);
        }

        double reference = DirectAupro(map, mask, b, h, w, 0.3);
        Assert.Equal(
            reference,
            AnomalyMetrics.Aupro(tensor(map).reshape(b, 1, h, w), tensor(mask).reshape(b, 1, h, w)),
            9
        );
    }

    [Fact]
    public void RegionsUseEightConnectivity()
    {
        var mask = new[] { true, false, false, false, true, false, false, false, true };
        var (_, count) = ConnectedComponents.Label(mask, 3, 3);
        Assert.Equal(1, count);
        var apart = new[] { true, false, true, false, false, false, true, false, true };
        Assert.Equal(4, ConnectedComponents.Label(apart, 3, 3).Count);
    }

    [Fact]
    public void DegenerateInputsGiveDefinedResults()
    {
        using var scope = NewDisposeScope();
        Assert.True(double.IsNaN(AnomalyMetrics.Auroc(tensor(new[] { 0.1f, 0.2f }), tensor(new[] { false, false }))));
        Assert.Equal(
            0.5,
            AnomalyMetrics.Auroc(tensor(new[] { 0.3f, 0.3f, 0.3f }), tensor(new[] { true, false, false })),
            12
        );
        Assert.Null(AnomalyMetrics.F1AdaptiveThreshold(tensor(new[] { 0.1f }), tensor(new[] { false })));
        Assert.Equal(0, AnomalyMetrics.F1(tensor(new[] { 0.1f }), tensor(new[] { false }), 0.5));
        Assert.True(double.IsNaN(AnomalyMetrics.Aupro(zeros(1, 1, 4, 4), zeros(1, 1, 4, 4))));
        var nan = Assert.Throws<ArgumentException>(() =>
            AnomalyMetrics.Auroc(tensor(new[] { float.NaN, 1f }), tensor(new[] { true, false }))
        );
        Assert.Contains("NaN", nan.Message);
        Assert.Throws<ArgumentException>(() => AnomalyMetrics.Auroc(tensor(new[] { 1f, 2f }), tensor(new[] { true })));
        Assert.Throws<ArgumentException>(() => AnomalyMetrics.Aupro(zeros(1, 1, 4, 4), zeros(1, 1, 4, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AnomalyMetrics.Aupro(zeros(1, 1, 4, 4), zeros(1, 1, 4, 4), 0));
    }

    /// <summary>For every distinct threshold: FPR over normal pixels and the mean overlap of each region; trapezoids to
    /// the limit.</summary>
    internal static double DirectAupro(float[] map, float[] mask, int b, int h, int w, double limit)
    {
        var regions = new List<int[]>();
        for (int image = 0; image < b; image++)
        {
            var m = Enumerable.Range(0, h * w).Select(i => mask[(image * h * w) + i] > 0).ToArray();
            var (labels, count) = ConnectedComponents.Label(m, h, w);
            for (int r = 1; r <= count; r++)
            {
                regions.Add(
                    Enumerable.Range(0, h * w).Where(i => labels[i] == r).Select(i => (image * h * w) + i).ToArray()
                );
            }
        }

        var normal = Enumerable.Range(0, map.Length).Where(i => mask[i] == 0).ToArray();
        var points = new List<(double Fpr, double Pro)> { (0, 0) };
        foreach (var t in map.Distinct().OrderByDescending(v => v))
        {
            double fpr = normal.Count(i => map[i] >= t) / (double)normal.Length;
            double pro = regions.Average(r => r.Count(i => map[i] >= t) / (double)r.Length);
            points.Add((fpr, pro));
        }

        double area = 0;
        for (int k = 1; k < points.Count; k++)
        {
            var (x0, y0) = points[k - 1];
            var (x1, y1) = points[k];
            if (x1 >= limit)
            {
                double y = x1 == x0 ? y1 : y0 + ((y1 - y0) * (limit - x0) / (x1 - x0));
                area += (limit - x0) * (y + y0) / 2;
                return area / limit;
            }

            area += (x1 - x0) * (y1 + y0) / 2;
        }

        return area / limit;
    }

    [Fact]
    public void TheRocCurveHasOnePointPerDistinctScoreFromTheOriginAsWorkedOutByHand()
    {
        using var scope = NewDisposeScope();
        // Scores 0.9 (anomalous), 0.8 (normal), 0.7 (anomalous), 0.1 (normal): lowering the threshold past each score
        // moves up (anomalous, 1/2 each) or right (normal, 1/2 each).
        var curve = AnomalyMetrics.RocCurve(
            tensor(new[] { 0.8f, 0.1f, 0.9f, 0.7f }),
            tensor(new[] { false, false, true, true })
        );
        Assert.Equal(new[] { 0.0, 0.0, 0.5, 0.5, 1.0 }, curve.FalsePositiveRate);
        Assert.Equal(new[] { 0.0, 0.5, 0.5, 1.0, 1.0 }, curve.TruePositiveRate);

        // Thinned to three points it keeps the origin, every second point and the last one.
        var thin = AnomalyMetrics.RocCurve(
            tensor(new[] { 0.8f, 0.1f, 0.9f, 0.7f }),
            tensor(new[] { false, false, true, true }),
            maxPoints: 3
        );
        Assert.Equal(new[] { 0.0, 0.0, 0.5, 1.0 }, thin.FalsePositiveRate);
        Assert.Equal(new[] { 0.0, 0.5, 1.0, 1.0 }, thin.TruePositiveRate);

        // One class: no curve.
        Assert.Empty(
            AnomalyMetrics.RocCurve(tensor(new[] { 0.3f, 0.4f }), tensor(new[] { false, false })).FalsePositiveRate
        );
    }

    [Fact]
    public void TprAtFprIsTheBestCatchAtAThresholdThatFlagsAtMostThatShareOfNormals()
    {
        using var scope = NewDisposeScope();

        // 100 normals scored 0.00..0.99; anomalies at 0.985, 0.975, 0.5, 0.2. Flagging at most one normal (1 %): the
        // threshold 0.985 flags the normal 0.99 and one anomaly. At most five (5 %): 0.975 flags 0.95..0.99 and two.
        var scores = Enumerable.Range(0, 100).Select(i => i / 100f).Concat(new[] { 0.985f, 0.975f, 0.5f, 0.2f });
        var labels = Enumerable.Repeat(false, 100).Concat(Enumerable.Repeat(true, 4));
        var s = tensor(scores.ToArray());
        var l = tensor(labels.ToArray());
        Assert.Equal(0.25, AnomalyMetrics.TprAtFpr(s, l, 0.01));
        Assert.Equal(0.5, AnomalyMetrics.TprAtFpr(s, l, 0.05));
        Assert.Equal(0, AnomalyMetrics.TprAtFpr(s, l, 0));
        Assert.Equal(1, AnomalyMetrics.TprAtFpr(s, l, 1));

        // Against a brute force over every threshold, with ties.
        var (rs, rl) = RandomWithTies(9, 300, 20);
        foreach (var fpr in new[] { 0.01, 0.05, 0.2 })
        {
            double best = 0;
            foreach (var t in rs.Distinct().Append(float.PositiveInfinity))
            {
                double fp = rs.Where((v, i) => !rl[i] && v >= t).Count() / (double)rl.Count(x => !x);
                double tp = rs.Where((v, i) => rl[i] && v >= t).Count() / (double)rl.Count(x => x);
                if (fp <= fpr)
                {
                    best = Math.Max(best, tp);
                }
            }

            Assert.Equal(best, AnomalyMetrics.TprAtFpr(tensor(rs), tensor(rl), fpr), 12);
        }

        Assert.True(double.IsNaN(AnomalyMetrics.TprAtFpr(tensor(new[] { 1f }), tensor(new[] { true }), 0.01)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AnomalyMetrics.TprAtFpr(s, l, 1.5));
    }
}
