using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.PostProcessing;

public class PostProcessingTests
{
    private static readonly PostProcessingStatistics Stats = new()
    {
        ImageMin = 2,
        ImageMax = 10,
        PixelMin = -1,
        PixelMax = 3,
        ImageThreshold = 6,
        PixelThreshold = 0,
    };

    [Fact]
    public void MinMaxNormalizationCentresOnTheThreshold()
    {
        using var scope = NewDisposeScope();
        var processor = new CalibratedPostProcessor(Stats);

        // (x - 6) / 8 + 0.5, clamped: 2 -> 0, 6 -> 0.5, 8 -> 0.75, 20 -> 1.
        Assert.Equal(
            new float[] { 0f, 0.5f, 0.75f, 1f },
            TensorAssert.Values(processor.NormalizeScores(tensor(new float[] { 2, 6, 8, 20 })))
        );

        // Maps use their own statistics: (x - 0) / 4 + 0.5.
        Assert.Equal(
            new float[] { 0.25f, 0.5f, 1f },
            TensorAssert.Values(processor.NormalizeMaps(tensor(new float[] { -1, 0, 2 })))
        );
        Assert.Equal(0.5, processor.NormalizedThreshold);
    }

    [Fact]
    public void QuadraNormalizationMapsTheThresholdTo100()
    {
        using var scope = NewDisposeScope();
        var processor = new CalibratedPostProcessor(Stats, NormalizationMethod.Quadra);

        // 100 * (x - 2) / (6 - 2), clamped to [0, 1000].
        Assert.Equal(
            new float[] { 0f, 100f, 150f, 1000f },
            TensorAssert.Values(processor.NormalizeScores(tensor(new float[] { 1, 6, 8, 100 })))
        );
    }

    [Fact]
    public void LabelsAndMasksComeFromTheRawThresholds()
    {
        using var scope = NewDisposeScope();
        var processor = new CalibratedPostProcessor(Stats);
        Assert.Equal(
            new[] { false, true, true },
            processor.LabelsFromRawScores(tensor(new float[] { 5.9f, 6, 7 })).data<bool>().ToArray()
        );
        Assert.Equal(
            new[] { false, true },
            processor.MasksFromRawMaps(tensor(new float[] { -0.01f, 0 })).data<bool>().ToArray()
        );
    }

    [Fact]
    public void StatisticsSurviveAJsonRoundTripExactly()
    {
        var stats = new PostProcessingStatistics
        {
            ImageMin = 0.1 + 0.2,
            ImageMax = 1e-300,
            PixelMin = -123456.789012345678,
            PixelMax = Math.PI,
            ImageThreshold = 1.0 / 3,
            PixelThreshold = double.Epsilon,
        };
        var back = PostProcessingStatistics.FromJson(stats.ToJson());
        Assert.Equal(stats, back);
        Assert.Equal(
            BitConverter.DoubleToInt64Bits(stats.ImageThreshold),
            BitConverter.DoubleToInt64Bits(back.ImageThreshold)
        );
        Assert.Throws<FormatException>(() => PostProcessingStatistics.FromJson("{\"ImageMin\": 1"));
        Assert.Throws<FormatException>(() => PostProcessingStatistics.FromJson("{\"ImageMin\": 1}"));
    }

    [Fact]
    public void CollectorComputesRangesAndF1AdaptiveThresholds()
    {
        using var scope = NewDisposeScope();
        var collector = new StatisticsCollector();
        var maps = zeros(3, 1, 4, 4);
        maps[0] = 0.1f;
        maps[1] = 0.2f;
        maps[2] = 0.2f;
        maps[2, 0, 1, 1] = 0.9f;
        var masks = zeros(3, 1, 4, 4);
        masks[2, 0, 1, 1] = 1;
        collector.Update(tensor(new float[] { 1, 2, 5 }), tensor(new[] { false, false, true }), maps, masks);
        collector.Update(tensor(new float[] { 3 }), tensor(new[] { true }));
        var stats = collector.Build();

        Assert.Equal(1, stats.ImageMin);
        Assert.Equal(5, stats.ImageMax);
        Assert.Equal(0.1, stats.PixelMin, 6);
        Assert.Equal(0.9, stats.PixelMax, 6);

        // Scores 1, 2 normal; 3, 5 anomalous: threshold 3 gives F1 = 1.
        Assert.Equal(3, stats.ImageThreshold);

        // Only the 0.9 pixel is anomalous: any threshold in (0.2, 0.9] is perfect; the chosen one must separate them.
        Assert.True(
            stats.PixelThreshold > 0.2 && stats.PixelThreshold <= 0.9,
            $"pixel threshold {stats.PixelThreshold}"
        );
    }

    [Fact]
    public void WithoutAnomalousSamplesTheThresholdFallsBackToTheMaximumAndWarns()
    {
        using var scope = NewDisposeScope();
        var logger = new ListLogger();
        var collector = new StatisticsCollector(logger);
        collector.Update(
            tensor(new float[] { 0.4f, 0.7f }),
            tensor(new[] { false, false }),
            TestTensors.Full(new long[] { 2, 1, 4, 4 }, 0.3f),
            zeros(2, 1, 4, 4)
        );
        var stats = collector.Build();
        Assert.Equal(0.7, stats.ImageThreshold, 6);
        Assert.Equal(0.3, stats.PixelThreshold, 6);
        Assert.False(double.IsNaN(stats.ImageThreshold));
        Assert.Contains(logger.Messages, m => m.Contains("No anomalous image samples"));
        Assert.Contains(logger.Messages, m => m.Contains("No anomalous pixel samples"));
    }

    [Fact]
    public void ManualThresholdsAreUsedRawOrAsAFractionOfTheRange()
    {
        using var scope = NewDisposeScope();
        var collector = new StatisticsCollector();
        collector.Update(
            tensor(new float[] { 2, 10 }),
            tensor(new[] { false, true }),
            TestTensors.Full(new long[] { 2, 1, 2, 2 }, 1f),
            ones(2, 1, 2, 2)
        );
        Assert.Equal(7, collector.Build(new ManualThreshold(7, 0.5)).ImageThreshold);
        Assert.Equal(4, collector.Build(new ManualThreshold(0.25, 0.5, IsNormalized: true)).ImageThreshold);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            collector.Build(new ManualThreshold(1.5, 0.5, IsNormalized: true))
        );
        Assert.Throws<InvalidOperationException>(() => new StatisticsCollector().Build());
    }
}
