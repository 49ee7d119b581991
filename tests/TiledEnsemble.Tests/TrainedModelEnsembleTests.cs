using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

/// <summary>The gradient-trained models inside the ensemble: epochs per position, saved, reloaded, errors with the
/// position.</summary>
public sealed class TrainedModelEnsembleTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly ITestOutputHelper _output;
    private readonly string _runs = Directory.CreateTempSubdirectory("trained-runs-").FullName;

    public TrainedModelEnsembleTests(GeneratedData data, ITestOutputHelper output)
    {
        _data = data;
        _output = output;
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Theory]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.ReverseDistillation)]
    public async Task TrainsEveryPositionForEpochsAndReloadsToTheSamePrediction(ModelKind kind)
    {
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(tileSize: 64, stride: 64)
            .WithModel(kind, m =>
            {
                m.Backbone = "resnet18";
                m.MaxEpochs = 2;
                m.FlowSteps = 2;
            })
            .WithBatchSizes(8, 8)
            .Build();
        var run = Path.Combine(_runs, kind.ToString());
        var fit = await ensemble.FitAsync(_data.Module(), run);
        Assert.Equal(4, fit.PositionsTrained);

        var image = Path.Combine(_data.Root, "fabric", "test", "spot", "000.png");
        using var a = ensemble.Predict(image);
        using var reloaded = Ensemble.Load(run);
        using var b = reloaded.Predict(image);
        Assert.Equal(a.Score, b.Score);
        Assert.True(TestTensors.Same(a.AnomalyMap, b.AnomalyMap));
        Assert.True(double.IsFinite(a.Score));
        _output.WriteLine($"{kind}: score {a.Score}");
    }

    [Fact]
    public async Task HeldOutGoodImagesChooseTheEpochByTheirLossWhereAurocCannot()
    {
        var data = _data.Module(5, new SplitOptions { ValSplitMode = ValSplitMode.FromTrain, ValSplitRatio = 0.5 });
        async Task<ListLogger> Fit(TrainingMetric monitor)
        {
            var logger = new ListLogger();
            using var loggers = LoggerFactory.Create(b => b.AddProvider(new ListLoggerProvider(logger)));
            using var ensemble = TiledEnsembleBuilder
                .Create()
                .WithImageSize(128)
                .WithTiling(tileSize: 64, stride: 64)
                .WithModel(ModelKind.Stfpm, m =>
                {
                    m.MaxEpochs = 2;
                    m.EarlyStoppingMonitor = monitor;
                })
                .WithBatchSizes(8, 8)
                .WithLogging(loggers)
                .Build();
            await ensemble.FitAsync(data, Path.Combine(_runs, monitor.ToString()));
            return logger;
        }

        // The validation set holds good images only: pixel AUROC is undefined, so no epoch can be chosen by it.
        var byAuroc = await Fit(TrainingMetric.PixelAuroc);
        Assert.Equal(4, byAuroc.Messages.Count(m => m.Contains("lacks normal or anomalous images")));

        // Their loss is defined: every position is validated, and the value watched (a negated loss) is logged.
        var byLoss = await Fit(TrainingMetric.GoodImageLoss);
        Assert.DoesNotContain(byLoss.Messages, m => m.Contains("lacks", StringComparison.Ordinal));
        var validated = byLoss.Messages.Where(m => m.Contains("best epoch", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, validated.Count);
        Assert.All(validated, m => Assert.Contains(", metric -", m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DivergenceNamesTheTilePosition()
    {
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(tileSize: 64, stride: 64)
            .WithModel(ModelKind.Stfpm, m =>
            {
                m.MaxEpochs = 20;
                m.LearningRate = 1e30;
            })
            .WithBatchSizes(8, 8)
            .Build();
        var error = await Assert.ThrowsAsync<TrainingDivergedException>(() =>
            ensemble.FitAsync(_data.Module(), Path.Combine(_runs, "diverged"))
        );
        Assert.Contains("Tile position (0, 0)", error.Message);
        Assert.Contains("Stfpm", error.Message);
        Assert.Contains("epoch", error.Message);
    }

    [Fact]
    public void TrainingSettingsOutOfRangeAreRefusedByName()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(128)
                .WithTiling(64, 64)
                .WithModel(ModelKind.FastFlow, m =>
                {
                    m.MaxEpochs = 0;
                    m.LearningRate = -1;
                    m.FlowSteps = 0;
                })
                .Build()
        );
        Assert.Contains("MaxEpochs", error.Message);
        Assert.Contains("LearningRate", error.Message);
        Assert.Contains("FlowSteps", error.Message);

        var layers = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(128)
                .WithTiling(64, 64)
                .WithModel(ModelKind.ReverseDistillation, m => m.Layers = new() { "layer2", "layer3" })
                .Build()
        );
        Assert.Contains("Reverse Distillation fuses layer1, layer2 and layer3", layers.Message);
    }
}
