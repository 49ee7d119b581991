using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Samples.CustomPipeline;
using TiledEnsemble.Testing;
using Xunit;

namespace TiledEnsemble.Tests.Composition;

/// <summary>
/// A gradient-trained model written outside the library (the sample's FeatureRegressionModel, on the public
/// TrainedAnomalyModel base) gets the library's loop: epochs with validation and early stopping, cancellation, several
/// devices, resuming, saving and loading under its own name.
/// </summary>
public sealed class OutsideModelTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _runs = Directory.CreateTempSubdirectory("outside-model-").FullName;

    public OutsideModelTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private static ModelDefinition Regression() =>
        new(FeatureRegressionModel.ModelName, context => new FeatureRegressionModel(
            context.Backbone,
            context.Settings.Training,
            context.Device
        ));

    private static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, 64)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8)
            .WithModelSettings(m => m.MaxEpochs = 3)
            .WithModel(Regression());

    [Fact]
    public async Task ItTrainsWithTheLibrarysLoopResumesOnSeveralDevicesAndLoadsUnderItsName()
    {
        var module = _data.Module();
        var logger = new ListLogger();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new ListLoggerProvider(logger)));
        var straight = Path.Combine(_runs, "straight");
        using (var ensemble = Small().WithLogging(loggers).Build())
        {
            var fit = await ensemble.FitAsync(module, straight);
            Assert.Equal(4, fit.PositionsTrained);
        }

        // The library's loop ran it: epochs validated on each position's tiles, the best epoch kept.
        Assert.Equal(4, logger.Messages.Count(m => m.Contains("epoch(s), best epoch", StringComparison.Ordinal)));

        // Cancelled after a position, resumed on two CPU "devices" at once: the same run.
        var resumedRun = Path.Combine(_runs, "resumed");
        using (var cancel = new CancellationTokenSource())
        using (var ensemble = Small().Build())
        {
            var progress = new SyncProgress<EnsembleProgress>(p =>
            {
                if (p.Message.Contains("trained on", StringComparison.Ordinal))
                {
                    cancel.Cancel();
                }
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                ensemble.FitAsync(module, resumedRun, progress, cancel.Token)
            );
        }

        using (var ensemble = Small().WithDevices("cpu", "cpu").Build())
        {
            var resumed = await ensemble.FitAsync(module, resumedRun);
            Assert.True(resumed.PositionsResumed >= 1);
        }

        var error = Assert.Throws<StageMismatchException>(() => EnsemblePredictor.Load(straight));
        Assert.Equal(FeatureRegressionModel.ModelName, error.Recorded.Name);
        using var a = EnsemblePredictor.Load(straight, new EnsembleLoadOptions { Model = Regression() });
        using var b = EnsemblePredictor.Load(resumedRun, new EnsembleLoadOptions { Model = Regression() });
        foreach (var sample in module.Test.Take(3))
        {
            using var x = a.Predict(sample.ImagePath);
            using var y = b.Predict(sample.ImagePath);
            Assert.True(double.IsFinite(x.Score));
            Assert.Equal(x.Score, y.Score);
            Assert.True(TestTensors.Same(x.AnomalyMap, y.AnomalyMap));
        }
    }
}
