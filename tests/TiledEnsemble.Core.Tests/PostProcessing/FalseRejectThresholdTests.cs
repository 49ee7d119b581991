using System;
using System.Linq;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.PostProcessing;

public class FalseRejectThresholdTests
{
    [Fact]
    public void RejectsTheAllowedShareHalfwayBetweenTheLastAcceptedAndTheFirstRejectedValue()
    {
        // 1..100 in shuffled order; 5 % may be rejected: 96..100, so the threshold lies between 95 and 96.
        var values = Enumerable.Range(1, 100).Select(v => (double)v).OrderBy(v => (v * 37) % 101).ToArray();
        var (threshold, share) = FalseRejectThreshold.Compute(values, 0.05);
        Assert.Equal(95.5, threshold);
        Assert.Equal(0.05, share);

        // 2.9 % of 100 allows 2 (floor), not 3.
        Assert.Equal(98.5, FalseRejectThreshold.Compute(values, 0.029).Threshold);
    }

    [Fact]
    public void RateZeroOrTooFewValuesPutTheThresholdJustAboveTheHighestValue()
    {
        var values = new[] { 0.25, 0.5, 0.75 };
        var (threshold, share) = FalseRejectThreshold.Compute(values, 0);
        Assert.Equal(MathF.BitIncrement(0.75f), (float)threshold);
        Assert.Equal(0, share);

        // 1 % of 3 values allows none.
        Assert.Equal(threshold, FalseRejectThreshold.Compute(values, 0.01).Threshold);
    }

    [Fact]
    public void TiesAtTheBoundaryAreAcceptedTogether()
    {
        // 20 % of 5 allows one rejection, but the highest value is tied with the next: rejecting one rejects both, so
        // neither is rejected.
        var (threshold, share) = FalseRejectThreshold.Compute(new[] { 1.0, 2, 3, 3, 3 }, 0.2);
        Assert.Equal(MathF.BitIncrement(3f), (float)threshold);
        Assert.Equal(0, share);
    }

    [Fact]
    public void ValuesOneFloatStepApartStillSplit()
    {
        float low = 1f,
            high = MathF.BitIncrement(1f);
        var (threshold, share) = FalseRejectThreshold.Compute(new double[] { low, high }, 0.5);

        // Compared in float32 (as maps and scores are): the low value is accepted, the high one rejected.
        Assert.True((float)threshold > low && (float)threshold <= high);
        Assert.Equal(0.5, share);
    }

    [Fact]
    public void BadInputsAreRefusedWithTheProblemNamed()
    {
        Assert.Contains(
            "none",
            Assert.Throws<ArgumentException>(() => FalseRejectThreshold.Compute(Array.Empty<double>(), 0.01)).Message
        );
        Assert.Contains(
            "NaN",
            Assert.Throws<ArgumentException>(() => FalseRejectThreshold.Compute(new[] { 1, double.NaN }, 0.01)).Message
        );
        Assert.Contains(
            "[0, 1)",
            Assert.Throws<ArgumentOutOfRangeException>(() => FalseRejectThreshold.Compute(new[] { 1.0 }, 1)).Message
        );
        Assert.Throws<ArgumentOutOfRangeException>(() => FalseRejectThreshold.Compute(new[] { 1.0 }, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PostProcessor(thresholdMethod: ThresholdMethod.FalseRejectRate, falseRejectRate: double.NaN)
        );
    }

    [Fact]
    public void TheCollectorSetsBothThresholdsFromGoodImagesAlone()
    {
        using var scope = NewDisposeScope();
        var logger = new ListLogger();
        var collector = new StatisticsCollector(logger);

        // Ten good images scored 1..10, whose maps peak at twice their score; one anomalous image scored 100 whose map
        // peaks at 500. 10 % may be rejected: one image, so the image threshold lies between 9 and 10, the pixel one
        // between 18 and 20. The anomalous image is not used.
        var scores = Enumerable.Range(1, 10).Select(v => (float)v).Append(100f).ToArray();
        var labels = scores.Select(s => s == 100f).ToArray();
        var maps = zeros(11, 1, 4, 4);
        for (int i = 0; i < 11; i++)
        {
            maps[i] = scores[i] / 10;
            maps[i, 0, 2, 3] = labels[i] ? 500 : 2 * scores[i];
        }

        collector.Update(tensor(scores), tensor(labels), maps);
        var stats = collector.Build(ThresholdMethod.FalseRejectRate, null, 0.1);

        Assert.Equal(9.5, stats.ImageThreshold);
        Assert.Equal(19, stats.PixelThreshold);
        Assert.Equal(1, stats.ImageMin);
        Assert.Equal(100, stats.ImageMax);
        Assert.Contains(logger.Messages, m => m.Contains("False-reject thresholds from 10 good validation images"));

        var onlyAnomalous = new StatisticsCollector();
        onlyAnomalous.Update(tensor(new[] { 3f }), tensor(new[] { true }));
        var error = Assert.Throws<InvalidOperationException>(() =>
            onlyAnomalous.Build(ThresholdMethod.FalseRejectRate, null, 0.1)
        );
        Assert.Contains("FromTrain", error.Message);
    }

    [Fact]
    public void AFalseRejectPostProcessorLabelsAsItsRateSays()
    {
        using var scope = NewDisposeScope();
        var stage = new PostProcessor(thresholdMethod: ThresholdMethod.FalseRejectRate, falseRejectRate: 0.25);
        Assert.Equal("0.25", stage.Identity.Settings["false_reject_rate"]);
        Assert.DoesNotContain("false_reject_rate", new PostProcessor().Identity.Settings.Keys);

        // Eight good images scored 1..8: 25 % may be rejected, so 7 and 8 are labelled anomalous, 6 is not.
        var scores = tensor(Enumerable.Range(1, 8).Select(v => (float)v).ToArray());
        var maps = scores.reshape(8, 1, 1, 1).expand(8, 1, 2, 2).contiguous();
        var batch = new CalibrationBatch(maps, scores, zeros(8, dtype: ScalarType.Bool), null);
        var fitted = stage.Calibrate(PostProcessingLevel.Image, new[] { batch });
        var processed = fitted.Process(maps, scores, null, null);
        Assert.Equal(
            new[] { false, false, false, false, false, false, true, true },
            processed.Labels!.data<bool>().ToArray()
        );
    }
}
