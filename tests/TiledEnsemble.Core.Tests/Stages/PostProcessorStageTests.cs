using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Stages;

/// <summary>The default post-processor as a stage: calibration, the levels it works at, state round trips.</summary>
public class PostProcessorStageTests
{
    [Fact]
    public void CalibrationGivesTheCollectorsStatisticsAndTheLevelDecidesWhatIsApplied()
    {
        using var scope = NewDisposeScope();
        var maps = TestTensors.Rand(new long[] { 6, 1, 8, 8 }, 3);
        var scores = tensor(new float[] { 0.1f, 0.2f, 0.3f, 0.7f, 0.8f, 0.9f });
        var labels = tensor(new[] { false, false, false, true, true, true });
        var masks = maps.gt(TestTensors.Scalar(0.8)).to_type(ScalarType.Float32);
        var batches = new[]
        {
            new CalibrationBatch(maps[..3], scores[..3], labels[..3], masks[..3]),
            new CalibrationBatch(maps[3..], scores[3..], labels[3..], masks[3..]),
        };

        var collector = new StatisticsCollector();
        collector.Update(scores[..3], labels[..3], maps[..3], masks[..3]);
        collector.Update(scores[3..], labels[3..], maps[3..], masks[3..]);
        var expected = collector.Build();

        var tileStage = new PostProcessor(Stage.Tile, NormalizationMethod.MinMax, Stage.Tile);
        Assert.True(tileStage.ProcessesPositions);
        Assert.False(tileStage.ProcessesImages);
        var position = (CalibratedPostProcessor)tileStage.Calibrate(PostProcessingLevel.Position, batches);
        Assert.Equal(expected, position.Statistics);
        Assert.True(position.Normalizes && position.Thresholds);

        var imageStage = new PostProcessor();
        Assert.False(imageStage.ProcessesPositions);
        Assert.True(imageStage.ProcessesImages);
        var image = imageStage.Calibrate(PostProcessingLevel.Image, batches);
        Assert.Equal(0.5, image.ImageThreshold);
        using var processed = image.Process(maps, scores, null, null);

        // Labels from the raw threshold (0.7 between the normal 0.3 and the anomalous 0.7), then min-max normalization.
        Assert.Equal(new[] { false, false, false, true, true, true }, processed.Labels!.data<bool>().ToArray());
        Assert.Equal(0.5f, processed.Scores[3].item<float>(), 6);

        // Normalization at the tile stage, thresholds at the image stage: positions only normalize, images only
        // threshold.
        var split = new PostProcessor(Stage.Tile, NormalizationMethod.MinMax, Stage.Image);
        var positionPart = (CalibratedPostProcessor)split.Restore(PostProcessingLevel.Position, expected.ToJson());
        var imagePart = (CalibratedPostProcessor)split.Restore(PostProcessingLevel.Image, expected.ToJson());
        Assert.True(positionPart.Normalizes && !positionPart.Thresholds);
        Assert.True(!imagePart.Normalizes && imagePart.Thresholds);
        Assert.Null(positionPart.ImageThreshold);
        Assert.Equal(expected.ImageThreshold, imagePart.ImageThreshold);
        using var passed = positionPart.Process(maps, scores, masks.gt(TestTensors.Scalar(0.5)), labels);
        Assert.True(TestTensors.Same(labels, passed.Labels!));
    }

    [Fact]
    public void StateRoundTripsAndForeignStatesAreRefused()
    {
        var statistics = new PostProcessingStatistics
        {
            ImageMin = 1,
            ImageMax = 3,
            PixelMin = 0,
            PixelMax = 9,
            ImageThreshold = 2,
            PixelThreshold = 4.5,
        };
        var stage = new PostProcessor();
        var fitted = (CalibratedPostProcessor)
            stage.Restore(PostProcessingLevel.Image, new CalibratedPostProcessor(statistics).State);
        Assert.Equal(statistics, fitted.Statistics);
        Assert.Throws<FormatException>(() => stage.Restore(PostProcessingLevel.Image, "{\"image\": 3"));
    }

    [Fact]
    public void CombinationsThatCannotWorkAreRefusedAndTheIdentityNamesEverySetting()
    {
        Assert.Contains(
            "tile stage",
            Assert
                .Throws<ArgumentException>(() => new PostProcessor(Stage.Image, NormalizationMethod.MinMax, Stage.Tile))
                .Message
        );
        Assert.Throws<ArgumentException>(() => new PostProcessor(thresholdingStage: Stage.None));
        Assert.Throws<ArgumentException>(() => new PostProcessor(thresholdMethod: ThresholdMethod.Manual));
        var manual = new PostProcessor(
            thresholdMethod: ThresholdMethod.Manual,
            manualThreshold: new ManualThreshold(0.3, 0.4, true)
        );
        Assert.Equal("post_processor", manual.Identity.Name);
        Assert.Equal("0.4", manual.Identity.Settings["manual_pixel"]);
        Assert.Equal("true", manual.Identity.Settings["manual_normalized"]);
        Assert.NotEqual(new PostProcessor().Identity, manual.Identity);
        Assert.Equal(
            new PostProcessor().Identity,
            new PostProcessor(Stage.Image, NormalizationMethod.MinMax, Stage.Image).Identity
        );
    }
}
