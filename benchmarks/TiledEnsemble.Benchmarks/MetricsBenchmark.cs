using System;
using System.Diagnostics;
using TiledEnsemble.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Pixel AUROC and AUPRO over N maps of S×S: the streaming accumulator (fixed memory) next to the exact in-memory
/// computation on the same data, with time, peak-memory growth and the difference of the results.
/// </summary>
internal static class MetricsBenchmark
{
    public static void Run(bool quick)
    {
        int count = quick ? 8 : 100,
            size = quick ? 128 : 512,
            batch = 10;
        Console.WriteLine($"## Pixel metrics over {count} maps of {size}x{size}");

        // Streaming: maps are generated batch by batch and dropped, as in an evaluation loop.
        GC.Collect();
        ProcessMemory.ResetPeak();
        long before = ProcessMemory.Resident();
        var watch = Stopwatch.StartNew();
        var accumulator = new PixelMetricsAccumulator(threshold: 0.5);
        for (int start = 0; start < count; start += batch)
        {
            using var scope = NewDisposeScope();
            var (maps, masks) = Make(start, Math.Min(batch, count - start), size);
            accumulator.Update(maps, masks);
        }

        double streamingAuroc = accumulator.Auroc(),
            streamingAupro = accumulator.Aupro();
        var streamingTime = watch.Elapsed.TotalSeconds;
        long streamingPeak = ProcessMemory.Peak() - before;

        // Exact: all maps held at once, sorted as doubles.
        GC.Collect();
        ProcessMemory.ResetPeak();
        before = ProcessMemory.Resident();
        watch.Restart();
        double exactAuroc,
            exactAupro;
        using (var scope = NewDisposeScope())
        {
            var (maps, masks) = Make(0, count, size);
            exactAuroc = AnomalyMetrics.Auroc(maps, masks);
            exactAupro = AnomalyMetrics.Aupro(maps, masks);
        }

        var exactTime = watch.Elapsed.TotalSeconds;
        long exactPeak = ProcessMemory.Peak() - before;

        Console.WriteLine("| method | time (s) | peak memory growth | pixel AUROC | pixel AUPRO |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        Console.WriteLine(
            $"| streaming (65,536 bins) | {streamingTime:F2} | {ProcessMemory.Mib(streamingPeak)} | "
                + $"{streamingAuroc:F7} | {streamingAupro:F7} |"
        );
        Console.WriteLine(
            $"| exact (all in memory) | {exactTime:F2} | {ProcessMemory.Mib(exactPeak)} | {exactAuroc:F7} | "
                + $"{exactAupro:F7} |"
        );
        Console.WriteLine(
            $"Ratios streaming/exact: time {streamingTime / exactTime:F2}, peak memory "
                + $"{(double)streamingPeak / Math.Max(1, exactPeak):F3}; |difference| AUROC "
                + $"{Math.Abs(streamingAuroc - exactAuroc):E2}, AUPRO {Math.Abs(streamingAupro - exactAupro):E2}"
        );
        Console.WriteLine();
    }

    /// <summary>Maps with a few rectangular defects that score higher, deterministically from the image
    /// index.</summary>
    private static (Tensor Maps, Tensor Masks) Make(int first, int count, int size)
    {
        var masks = zeros(new long[] { count, 1, size, size });
        var maps = empty(new long[] { count, 1, size, size });
        for (int i = 0; i < count; i++)
        {
            var random = new Random(first + i);
            for (int d = 0; d < 3; d++)
            {
                int h = 4 + random.Next(size / 16),
                    w = 4 + random.Next(size / 16);
                int y = random.Next(size - h),
                    x = random.Next(size - w);
                masks[i, 0, y..(y + h), x..(x + w)] = 1;
            }

            using var generator = new Generator((ulong)(first + i + 1));
            maps[i] = rand(new long[] { 1, size, size }, generator: generator);
        }

        using var keep = 0.8.ToScalar();
        using var defect = 0.35.ToScalar();
        using var one = 1L.ToScalar();
        using var scaled = masks.mul(defect);
        maps.mul_(keep).add_(scaled, one);
        return (maps, masks);
    }
}
