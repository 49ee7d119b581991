using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Models;
using TiledEnsemble.Testing;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

/// <summary>Evaluation holds one tile model at a time unless prediction already made them resident.</summary>
public sealed class EvaluationResidencyTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("residency-").FullName;
    private int _alive;
    private int _peak;
    private int _created;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task EvaluationLoadsOneModelAtATimeAndUsesResidentModelsWhenPredictionLoadedThem()
    {
        using var data = new GeneratedData();
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, 32)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8)
            .WithModelDecorator((_, model) => new CountedModel(model, this))
            .Build();
        Assert.True(ensemble.Settings.KeepModelsResident);
        await ensemble.FitAsync(data.Module(), Path.Combine(_runs, "run"));
        Assert.Equal(0, Volatile.Read(ref _alive));

        // 12 test images in batches of 8: each batch loads the nine models one after another.
        Volatile.Write(ref _peak, 0);
        Volatile.Write(ref _created, 0);
        var test = data.Module().Test;
        Assert.Equal(12, test.Count);
        var first = await ensemble.EvaluateAsync(test);
        Assert.Equal(1, Volatile.Read(ref _peak));
        Assert.Equal(2 * 9, Volatile.Read(ref _created));
        Assert.Equal(0, Volatile.Read(ref _alive));

        // Prediction keeps them (the setting); a later evaluation uses those and loads none.
        using (var images = TestTensors.Rand(new long[] { 2, 3, 128, 128 }, 5))
        {
            Assert.Equal(2, ensemble.Predict(images).Count);
        }

        Assert.Equal(9, Volatile.Read(ref _alive));
        Volatile.Write(ref _created, 0);
        var second = await ensemble.EvaluateAsync(test);
        Assert.Equal(0, Volatile.Read(ref _created));
        Assert.Equal(first.Metrics["pixel_AUROC"], second.Metrics["pixel_AUROC"], 6);
        Assert.Equal(first.Metrics["image_AUROC"], second.Metrics["image_AUROC"], 6);
    }

    private sealed class CountedModel : IAnomalyModel
    {
        private readonly IAnomalyModel _inner;
        private readonly EvaluationResidencyTests _counts;
        private int _disposed;

        public CountedModel(IAnomalyModel inner, EvaluationResidencyTests counts)
        {
            _inner = inner;
            _counts = counts;
            Interlocked.Increment(ref counts._created);
            int alive = Interlocked.Increment(ref counts._alive);
            int peak;
            while (
                alive > (peak = Volatile.Read(ref counts._peak))
                && Interlocked.CompareExchange(ref counts._peak, alive, peak) != peak
            ) { }
        }

        public string Name => _inner.Name;

        public Device Device => _inner.Device;

        public bool IsFitted => _inner.IsFitted;

        public void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default) =>
            _inner.Fit(batches, cancellationToken);

        public ModelPrediction Predict(Tensor images) => _inner.Predict(images);

        public ModelState ExportState() => _inner.ExportState();

        public void ImportState(ModelState state) => _inner.ImportState(state);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref _counts._alive);
                _inner.Dispose();
            }
        }
    }
}
