using System;
using System.Collections.Generic;
using System.Linq;

namespace TiledEnsemble.Benchmarks;

/// <summary>Medians of a model's and its bound's throughput, and of their ratio, over alternating passes.</summary>
internal sealed record PairedThroughput(double Model, double Bound, double Ratio, double MinRatio, double MaxRatio);

/// <summary>
/// Times a model and its bound in alternating passes after one warm-up pass of each, so that this shared VM's speed
/// drift hits both alike; single passes moved by ±15 % between runs.
/// </summary>
internal static class PairedPasses
{
    public static PairedThroughput Measure(
        int pairs,
        Func<double> modelImagesPerSecond,
        Func<double> boundImagesPerSecond
    )
    {
        modelImagesPerSecond();
        boundImagesPerSecond();
        var models = new List<double>();
        var bounds = new List<double>();
        var ratios = new List<double>();
        for (int pass = 0; pass < pairs; pass++)
        {
            double bound = boundImagesPerSecond();
            double model = modelImagesPerSecond();
            bounds.Add(bound);
            models.Add(model);
            ratios.Add(model / bound);
        }

        return new PairedThroughput(Median(models), Median(bounds), Median(ratios), ratios.Min(), ratios.Max());
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}
