using System;
using System.Collections.Generic;
using TiledEnsemble.Joining;
using TiledEnsemble.Metrics;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Reliability;

/// <summary>
/// Every tensor entry point of Core refuses a wrong rank, a non-float or mismatched input with an ArgumentException
/// (never a native crash), and null with ArgumentNullException.
/// </summary>
public class BadInputTests
{
    public static IEnumerable<object[]> EntryPoints()
    {
        var tiler = new Tiler(16, 8, new Size2D(32, 32));
        var ensembleTiler = new EnsembleTiler(16, 8, 32);
        var processor = new CalibratedPostProcessor(
            new PostProcessingStatistics
            {
                ImageMin = 0,
                ImageMax = 1,
                PixelMin = 0,
                PixelMax = 1,
                ImageThreshold = 0.5,
                PixelThreshold = 0.5,
            }
        );
        var smoother = new SeamSmoother();
        var grid = TileGrid.Create(32, 16, 8);
        yield return Case("Tiler.Tile", t => tiler.Tile(t));
        yield return Case("Tiler.Untile", t => tiler.Untile(t));
        yield return Case("EnsembleTiler.Tile", t => ensembleTiler.Tile(t));
        yield return Case("EnsembleTiler.Untile", t => ensembleTiler.Untile(t));
        yield return Case("EnsembleTiler.TileAt", t => ensembleTiler.TileAt(t, ensembleTiler.TilePositions[0]));
        yield return Case("SeamSmoother.Smooth", t => smoother.Smooth(t, grid));
        // Normalization is elementwise: any shape is valid, so only the dtype and null are checked.
        yield return Case("CalibratedPostProcessor.NormalizeMaps", t => processor.NormalizeMaps(t), checksRank: false);
        yield return Case(
            "CalibratedPostProcessor.NormalizeScores",
            t => processor.NormalizeScores(t),
            checksRank: false
        );
        yield return Case("AnomalyMetrics.Aupro", t => AnomalyMetrics.Aupro(t, t));
        yield return Case("PixelMetricsAccumulator.Update", t =>
        {
            new PixelMetricsAccumulator().Update(t, t);
            return t;
        });
        yield return Case("StatisticsCollector.Update", t =>
        {
            new StatisticsCollector().Update(t, t, t, t);
            return t;
        });
    }

    [Theory]
    [MemberData(nameof(EntryPoints))]
    public void RefusesWrongRankNonFloatAndNull(string name, Func<Tensor, object> call, bool checksRank)
    {
        using var scope = NewDisposeScope();
        Assert.True(!checksRank || Throws(() => call(zeros(7))), $"{name} accepted a 1-D tensor of 7 values");
        Assert.True(
            Throws(() => call(zeros(new long[] { 1, 3, 32, 32 }, ScalarType.Int32)))
                || name.StartsWith("Tiler", StringComparison.Ordinal)
                || name.StartsWith("EnsembleTiler", StringComparison.Ordinal),
            $"{name} accepted integer data"
        );
        Assert.ThrowsAny<ArgumentNullException>(() => call(null!));
    }

    [Fact]
    public void ScoresAndLabelsOfDifferentLengthsAreRefused()
    {
        using var scope = NewDisposeScope();
        var message = Assert.ThrowsAny<ArgumentException>(() => AnomalyMetrics.Auroc(zeros(5), zeros(4))).Message;
        Assert.Contains("5", message);
        Assert.Contains("4", message);
        Assert.ThrowsAny<ArgumentException>(() =>
            AnomalyMetrics.Auroc(TestTensors.Full(new long[] { 3 }, double.NaN), ones(3))
        );
    }

    private static object[] Case(string name, Func<Tensor, object> call, bool checksRank = true) =>
        new object[] { name, call, checksRank };

    private static bool Throws(Func<object> call)
    {
        try
        {
            var result = call();
            (result as IDisposable)?.Dispose();
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
