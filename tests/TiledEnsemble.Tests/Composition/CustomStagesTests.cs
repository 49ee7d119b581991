using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.Samples.CustomPipeline;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using Xunit;

namespace TiledEnsemble.Tests.Composition;

/// <summary>Stages of one's own, given to the builder, are used in fitting, evaluation and prediction, and recorded in
/// the run.</summary>
public sealed class CustomStagesTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _runs = Directory.CreateTempSubdirectory("custom-stages-").FullName;

    public CustomStagesTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    internal static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, 32)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8);

    internal static ModelDefinition MeanDistance() =>
        new(
            MeanFeatureDistanceModel.ModelName,
            context => new MeanFeatureDistanceModel(context.Backbone, context.Device),
            new Dictionary<string, string> { ["layer"] = "layer2" }
        );

    [Fact]
    public async Task AJoinerAndSeamSmootherOfOnesOwnAreUsedInFittingEvaluationAndPredictionAndRecorded()
    {
        var joiner = new CountingJoiner(new MaxJoiner());
        var smoother = new CountingSeamSmoother(new BoxSeamSmoother(size: 5, halfWidth: 3));
        using var ensemble = Small().WithJoiner(joiner).WithSeamSmoother(smoother).Build();
        var run = Path.Combine(_runs, "joiner");
        await ensemble.FitAsync(_data.Module(), run);

        // The image-level statistics join the 12 validation images in two batches of at most 8.
        Assert.Equal(2, joiner.Calls);
        Assert.Equal(2, smoother.Calls);
        await ensemble.EvaluateAsync(_data.Module().Test);
        Assert.Equal(4, joiner.Calls);
        Assert.Equal(4, smoother.Calls);
        using (var prediction = ensemble.Predict(Path.Combine(_data.Root, "fabric", "test", "spot", "000.png")))
        {
            Assert.Equal(new long[] { 1, 128, 128 }, prediction.AnomalyMap.shape);
        }

        Assert.Equal(5, joiner.Calls);
        Assert.Equal(5, smoother.Calls);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")));
        var stages = manifest.RootElement.GetProperty("Stages");
        Assert.Equal("samples.max_joiner", stages.GetProperty("joiner").GetProperty("Name").GetString());
        Assert.Equal(
            "3",
            stages.GetProperty("seam_smoother").GetProperty("Settings").GetProperty("half_width").GetString()
        );
        Assert.Equal("ensemble_tiler", stages.GetProperty("tiler").GetProperty("Name").GetString());
        Assert.Equal("Padim", stages.GetProperty("model").GetProperty("Name").GetString());
    }

    [Fact]
    public async Task ARunOfStagesOfOnesOwnOpensOnlyWithThoseStagesAndThenPredictsTheSame()
    {
        var joiner = new MaxJoiner();
        var smoother = new BoxSeamSmoother();
        var thresholds = new PositionThresholds(1.05);
        using var ensemble = Small()
            .WithModel(MeanDistance())
            .WithJoiner(joiner)
            .WithSeamSmoother(smoother)
            .WithPostProcessor(thresholds)
            .Build();
        var run = Path.Combine(_runs, "all");
        await ensemble.FitAsync(_data.Module(), run);
        Assert.Null(ensemble.ImageStatistics);

        var model = Assert.Throws<StageMismatchException>(() => EnsemblePredictor.Load(run));
        Assert.Equal("model", model.Role);
        Assert.Contains(MeanFeatureDistanceModel.ModelName, model.Message);
        Assert.Null(model.Given);

        var missing = Assert.Throws<StageMismatchException>(() =>
            EnsemblePredictor.Load(run, new EnsembleLoadOptions { Model = MeanDistance() })
        );
        Assert.Equal("joiner", missing.Role);
        Assert.Contains("samples.max_joiner", missing.Message);
        Assert.Contains("EnsembleLoadOptions.Joiner", missing.Message);

        var options = new EnsembleLoadOptions
        {
            Model = MeanDistance(),
            Joiner = joiner,
            SeamSmoother = smoother,
            PostProcessor = thresholds,
        };
        var other = Assert.Throws<StageMismatchException>(() =>
            EnsemblePredictor.Load(run, options with { SeamSmoother = new BoxSeamSmoother(size: 7) })
        );
        Assert.Equal("seam_smoother", other.Role);
        Assert.Equal("7", other.Given!.Settings["size"]);
        Assert.Equal("5", other.Recorded.Settings["size"]);
        Assert.Equal(
            "samples.position_thresholds",
            Assert
                .Throws<StageMismatchException>(() =>
                    EnsemblePredictor.Load(run, options with { PostProcessor = new PositionThresholds(2) })
                )
                .Recorded.Name
        );

        using var reopened = EnsemblePredictor.Load(run, options);
        foreach (var sample in _data.Module().Test)
        {
            using var before = ensemble.Predict(sample.ImagePath);
            using var after = reopened.Predict(sample.ImagePath);
            Assert.Equal(before.Score, after.Score);
            Assert.Equal(before.Label, after.Label);
            Assert.True(TestTensors.Same(before.AnomalyMap, after.AnomalyMap));
        }
    }

    [Fact]
    public async Task PositionThresholdsAreLearnedPerPositionFromGoodTilesAndDecideTheLabel()
    {
        var thresholds = new CountingPostProcessor(new PositionThresholds(1.0001));
        using var ensemble = Small().WithPostProcessor(thresholds).WithJoiner(new MaxJoiner()).Build();
        var run = Path.Combine(_runs, "thresholds");
        await ensemble.FitAsync(_data.Module(), run);
        Assert.Equal(ensemble.Grid.Count, thresholds.Calibrations);

        // Opening the run restores every position's thresholds; nothing is learned at the image level.
        Assert.Equal(ensemble.Grid.Count, thresholds.Restores);
        var evaluation = await ensemble.EvaluateAsync(_data.Module().Test);
        foreach (var image in evaluation.Images)
        {
            // 1 is every position's threshold, the score the largest position's (max joiner): a part is rejected when
            // one position reaches its threshold.
            Assert.Equal(image.Score >= 1, image.PredictedLabel);
            if (image.GroundTruth == 0)
            {
                // The good validation images (the test split, as anomalib's default) stay below their positions'
                // maxima.
                Assert.False(image.PredictedLabel, $"{image.Path} was rejected with score {image.Score}");
            }
        }
    }

    [Fact]
    public async Task ATilerOfExplicitStartsTrainsAndPredictsEveryPositionOfItsLayout()
    {
        var tiler = new CountingTiler(
            new FixedLayoutTiler(TileGrid.FromStarts(128, 64, new[] { 0, 40, 64 }, new[] { 0, 64 }))
        );
        using var ensemble = Small().WithTiler(tiler).Build();
        Assert.Equal(6, ensemble.Grid.Count);
        await ensemble.FitAsync(_data.Module(), Path.Combine(_runs, "tiler"));
        int afterFit = tiler.Calls;
        Assert.True(afterFit > 0);
        using var prediction = ensemble.Predict(Path.Combine(_data.Root, "fabric", "test", "spot", "000.png"));
        Assert.Equal(afterFit + 6, tiler.Calls);
        Assert.Equal(new long[] { 1, 128, 128 }, prediction.AnomalyMap.shape);

        var wrong = Assert.Throws<ArgumentException>(() =>
            Small().WithTiler(new FixedLayoutTiler(TileGrid.FromStarts(128, 32, new[] { 0 }, new[] { 0 }))).Build()
        );
        Assert.Contains("tests.fixed_layout", wrong.Message);
        Assert.Contains("32x32", wrong.Message);
    }

    [Fact]
    public async Task AModelWhoseFactoryMakesAnotherNameIsRefusedNamingBoth()
    {
        using var ensemble = Small()
            .WithModel("acme.named", context => new MeanFeatureDistanceModel(context.Backbone, context.Device))
            .Build();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ensemble.FitAsync(_data.Module(), Path.Combine(_runs, "named"))
        );
        Assert.Contains("acme.named", error.Message);
        Assert.Contains(MeanFeatureDistanceModel.ModelName, error.Message);
    }
}
