using System;
using System.Linq;
using TiledEnsemble.Metrics;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Metrics;

public class PixelMetricsAccumulatorTests
{
    private static (Tensor Maps, Tensor Masks) Batch(int seed, float low, float high, bool quantized)
    {
        using var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        var masks = zeros(new long[] { 2, 1, 32, 32 });
        masks[0, 0, 4..10, 6..12] = 1;
        masks[1, 0, 20..22, 20..30] = 1;
        masks[1, 0, 2, 2] = 1;
        var maps = rand(new long[] { 2, 1, 32, 32 }, generator: generator)
            .mul(TestTensors.Scalar(0.7))
            .add(masks.mul(TestTensors.Scalar(0.3)), TestTensors.One);
        maps = maps.mul(TestTensors.Scalar(high - low)).add(TestTensors.Scalar(low), TestTensors.One);
        if (quantized)
        {
            maps = maps.mul(TestTensors.Scalar(64)).round().div(TestTensors.Scalar(64));
        }

        return (maps.MoveToOuterDisposeScope(), masks.MoveToOuterDisposeScope());
    }

    [Fact]
    public void EqualsTheExactMetricsWhenDistinctValuesFallInDistinctBins()
    {
        using var scope = NewDisposeScope();

        // The second batch spans a wider range than the first, so the histogram has to grow (merge bins) on the way.
        var first = Batch(1, 0.25f, 0.5f, quantized: true);
        var second = Batch(2, -1f, 2f, quantized: true);
        var accumulator = new PixelMetricsAccumulator(threshold: 0.5);
        accumulator.Update(first.Maps, first.Masks);
        accumulator.Update(second.Maps, second.Masks);
        var maps = cat(new[] { first.Maps, second.Maps });
        var masks = cat(new[] { first.Masks, second.Masks });

        Assert.Equal(AnomalyMetrics.Auroc(maps, masks), accumulator.Auroc(), 9);
        Assert.Equal(AnomalyMetrics.Aupro(maps, masks), accumulator.Aupro(), 9);
        Assert.Equal(AnomalyMetrics.F1(maps, masks, 0.5), accumulator.F1(), 12);
        Assert.Equal(AnomalyMetrics.F1AdaptiveThreshold(maps, masks)!.Value.F1, accumulator.BestF1()!.Value.F1, 9);
        Assert.Equal(6, accumulator.RegionCount);
        Assert.Equal(4 * 32 * 32, accumulator.PixelCount);
    }

    [Fact]
    public void ChunkedBinningGivesTheSameCurves()
    {
        // Large batches are binned in chunks; tiny chunks must give exactly what one pass gives.
        using var scope = NewDisposeScope();
        var (maps, masks) = Batch(3, 0, 1, quantized: true);
        var whole = new PixelMetricsAccumulator();
        whole.Update(maps, masks);
        var chunked = new PixelMetricsAccumulator(null, AnomalyMetrics.DefaultFprLimit, 1 << 16, chunkSize: 7);
        chunked.Update(maps, masks);
        Assert.Equal(whole.Auroc(), chunked.Auroc(), 12);
        Assert.Equal(whole.Aupro(), chunked.Aupro(), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamingHistogram(16, 1, chunkSize: 0));
    }

    [Fact]
    public void StaysCloseToTheExactMetricsOnContinuousValues()
    {
        using var scope = NewDisposeScope();
        var accumulator = new PixelMetricsAccumulator();
        var batches = Enumerable.Range(0, 4).Select(i => Batch(10 + i, 0, 1, quantized: false)).ToList();
        foreach (var (maps, masks) in batches)
        {
            accumulator.Update(maps, masks);
        }

        var allMaps = cat(batches.Select(b => b.Maps).ToArray());
        var allMasks = cat(batches.Select(b => b.Masks).ToArray());
        Assert.True(Math.Abs(AnomalyMetrics.Auroc(allMaps, allMasks) - accumulator.Auroc()) < 1e-4);
        Assert.True(Math.Abs(AnomalyMetrics.Aupro(allMaps, allMasks) - accumulator.Aupro()) < 1e-4);
    }

    [Fact]
    public void RejectsNaNMapsAndMismatchedMasks()
    {
        using var scope = NewDisposeScope();
        var accumulator = new PixelMetricsAccumulator();
        Assert.Throws<ArgumentException>(() =>
            accumulator.Update(TestTensors.Full(new long[] { 1, 1, 4, 4 }, float.NaN), zeros(1, 1, 4, 4))
        );
        Assert.Throws<ArgumentException>(() => accumulator.Update(zeros(1, 1, 4, 4), zeros(1, 1, 4, 3)));
        Assert.Throws<InvalidOperationException>(() => accumulator.F1());
        Assert.True(double.IsNaN(accumulator.Auroc()));
    }
}
