using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Samples.CustomPipeline;
using TiledEnsemble.Testing;
using Xunit;

namespace TiledEnsemble.Tests.Composition;

/// <summary>Stages and a trainer of one's own in resuming, shards and finalizing: the same run as one uninterrupted
/// fit.</summary>
public sealed class CustomStagesAcrossJobsTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _runs = Directory.CreateTempSubdirectory("custom-jobs-").FullName;

    public CustomStagesAcrossJobsTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private static EnsembleLoadOptions Stages() =>
        new()
        {
            Joiner = new MaxJoiner(),
            SeamSmoother = new BoxSeamSmoother(),
            PostProcessor = new PositionThresholds(1.05),
            Model = CustomStagesTests.MeanDistance(),
        };

    private static TiledEnsembleBuilder Composed(RecordingTrainer? trainer = null)
    {
        var stages = Stages();
        var builder = CustomStagesTests
            .Small()
            .WithModel(stages.Model!)
            .WithJoiner(stages.Joiner!)
            .WithSeamSmoother(stages.SeamSmoother!)
            .WithPostProcessor(stages.PostProcessor!);
        return trainer is null ? builder : builder.WithTrainer(trainer);
    }

    [Fact]
    public async Task AnInterruptedRunResumesWithItsStagesShardsFinalizeWithThemAndAllEqualOneFit()
    {
        var module = _data.Module();
        var straight = Path.Combine(_runs, "straight");
        using (var ensemble = Composed().Build())
        {
            await ensemble.FitAsync(module, straight);
        }

        // Interrupted after the first position, then resumed from the folder with the stages.
        var resumedRun = Path.Combine(_runs, "resumed");
        using (var cancel = new CancellationTokenSource())
        using (var ensemble = Composed().Build())
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

        var refused = await Assert.ThrowsAsync<StageMismatchException>(() =>
            Ensemble.ResumeAsync(resumedRun, module, stages: Stages() with { Joiner = null })
        );
        Assert.Equal("joiner", refused.Role);
        var trainer = new RecordingTrainer();
        var (resumed, result) = await Ensemble.ResumeAsync(resumedRun, module, stages: Stages(), trainer: trainer);
        using (resumed)
        {
            Assert.True(result.PositionsResumed >= 1, $"{result.PositionsResumed} positions were kept");
            Assert.Equal(9, result.PositionsResumed + result.PositionsTrained);
            Assert.Equal(new[] { "fit" }, trainer.Calls);
        }

        // Two shard workers and the final step, through a trainer of one's own.
        var sharded = Path.Combine(_runs, "sharded");
        var shardTrainer = new RecordingTrainer();
        using (var ensemble = Composed(shardTrainer).Build())
        {
            await ensemble.TrainShardAsync(module, sharded, 0, 2);
            await ensemble.TrainShardAsync(module, sharded, 1, 2);
            await ensemble.FinalizeAsync(module, sharded);
            Assert.True(ensemble.IsTrained);
        }

        Assert.Equal(new[] { "shard 0/2", "shard 1/2", "finalize" }, shardTrainer.Calls);
        using var expected = EnsemblePredictor.Load(straight, Stages());
        foreach (var run in new[] { resumedRun, sharded })
        {
            using var actual = EnsemblePredictor.Load(run, Stages());
            foreach (var sample in module.Test.Take(4))
            {
                using var a = expected.Predict(sample.ImagePath);
                using var b = actual.Predict(sample.ImagePath);
                Assert.Equal(a.Score, b.Score);
                Assert.True(TestTensors.Same(a.AnomalyMap, b.AnomalyMap), $"{run}: {sample.ImagePath}");
            }
        }
    }

    /// <summary>A trainer of one's own: records each call and lets the default do the work.</summary>
    private sealed class RecordingTrainer : IEnsembleTrainer
    {
        private readonly EnsembleTrainer _inner = new();
        private readonly ConcurrentQueue<string> _calls = new();

        public IReadOnlyList<string> Calls => _calls.ToList();

        public Task<FitResult> FitAsync(
            EnsembleDefinition definition,
            AnomalyDataModule data,
            string runDirectory,
            FitOptions options,
            IProgress<EnsembleProgress>? progress = null,
            CancellationToken cancellationToken = default
        )
        {
            _calls.Enqueue("fit");
            return _inner.FitAsync(definition, data, runDirectory, options, progress, cancellationToken);
        }

        public Task<ShardResult> TrainShardAsync(
            EnsembleDefinition definition,
            AnomalyDataModule data,
            string runDirectory,
            int index,
            int count,
            FitOptions options,
            IProgress<EnsembleProgress>? progress = null,
            CancellationToken cancellationToken = default
        )
        {
            _calls.Enqueue($"shard {index}/{count}");
            return _inner.TrainShardAsync(
                definition,
                data,
                runDirectory,
                index,
                count,
                options,
                progress,
                cancellationToken
            );
        }

        public Task<FitResult> FinalizeAsync(
            EnsembleDefinition definition,
            AnomalyDataModule data,
            string runDirectory,
            IProgress<EnsembleProgress>? progress = null,
            CancellationToken cancellationToken = default
        )
        {
            _calls.Enqueue("finalize");
            return _inner.FinalizeAsync(definition, data, runDirectory, progress, cancellationToken);
        }
    }
}
