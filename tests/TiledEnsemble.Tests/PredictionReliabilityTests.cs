using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Models;
using TiledEnsemble.Prediction;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

/// <summary>One trained ensemble shared by the prediction tests of this class.</summary>
public sealed class TrainedEnsemble : IDisposable
{
    private readonly GeneratedData _data = new();
    private readonly string _run = Directory.CreateTempSubdirectory("ensemble-trained-").FullName;

    public TrainedEnsemble()
    {
        Ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, 64)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 20)
            .WithBatchSizes(8, 8)
            .Build();
        Ensemble.FitAsync(_data.Module(), Path.Combine(_run, "run")).GetAwaiter().GetResult();
        Image = Data.Imaging.ImageIO.ReadImage(Path.Combine(_data.Root, "fabric", "test", "spot", "001.png"));
    }

    public Ensemble Ensemble { get; }

    public IReadOnlyList<Data.Datasets.AnomalySample> TestSamples => _data.Module().Test;

    public Tensor Image { get; }

    public void Dispose()
    {
        Ensemble.Dispose();
        Image.Dispose();
        _data.Dispose();
        Directory.Delete(_run, recursive: true);
    }
}

[CollectionDefinition(nameof(NotParallel), DisableParallelization = true)]
public sealed class NotParallel { }

[Collection(nameof(NotParallel))]
public sealed class PredictionReliabilityTests : IClassFixture<TrainedEnsemble>
{
    private readonly TrainedEnsemble _trained;
    private readonly ITestOutputHelper _output;

    public PredictionReliabilityTests(TrainedEnsemble trained, ITestOutputHelper output)
    {
        _trained = trained;
        _output = output;
    }

    [Fact]
    public void ConcurrentPredictionsEqualSequentialOnes()
    {
        using var expected = _trained.Ensemble.Predict(_trained.Image).Single();
        var results = new float[16][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var prediction = _trained.Ensemble.Predict(_trained.Image).Single();
            results[i] = prediction.AnomalyMap.data<float>().ToArray();
        });
        var reference = expected.AnomalyMap.data<float>().ToArray();
        Assert.All(results, r => Assert.Equal(reference, r));
    }

    [Fact]
    public void ThousandsOfPredictionsHaveAFlatMemorySlope()
    {
        void Predict(int count)
        {
            for (int i = 0; i < count; i++)
            {
                foreach (var p in _trained.Ensemble.Predict(_trained.Image))
                {
                    p.Dispose();
                }
            }
        }

        // Warm-up: lazy model loading and the native allocator's pools (the resident set grows during the first
        // ~100-200 calls and then stays flat).
        Predict(200);
        const int Samples = 20,
            Step = 100;
        var calls = new double[Samples];
        var resident = new double[Samples];
        for (int k = 0; k < Samples; k++)
        {
            Predict(Step);
            calls[k] = (k + 1) * Step;
            resident[k] = ResidentBytes();
        }

        // Least-squares slope of the resident set against the number of predictions (2,000 of them).
        double meanX = calls.Average(),
            meanY = resident.Average();
        double slope =
            calls.Zip(resident, (x, y) => (x - meanX) * (y - meanY)).Sum() / calls.Sum(x => (x - meanX) * (x - meanX));
        _output.WriteLine(
            $"resident set {resident[0] / 1e6:F1} MB -> {resident[^1] / 1e6:F1} MB over {calls[^1] - calls[0]} "
                + $"predictions; slope {slope / 1024:F2} KiB per prediction"
        );

        // A leaked joined 128x128 float map alone would be 64 KiB per prediction; the bound is an eighth of that.
        Assert.True(slope < 8 * 1024, $"memory grows by {slope / 1024:F2} KiB per prediction");
    }

    /// <summary>VmRSS of this process (native allocations included), in bytes.</summary>
    private static double ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(
                line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                System.Globalization.CultureInfo.InvariantCulture
            ) * 1024;
    }

    [Fact]
    public void BadInputsGiveClearExceptions()
    {
        using var disposeScope = NewDisposeScope();
        var ensemble = _trained.Ensemble;
        Assert.Contains("rank", Assert.Throws<ArgumentException>(() => ensemble.Predict(zeros(128, 128))).Message);
        Assert.Contains("RGB", Assert.Throws<ArgumentException>(() => ensemble.Predict(zeros(1, 1, 128, 128))).Message);
        Assert.Contains(
            "floating-point",
            Assert
                .Throws<ArgumentException>(() =>
                    ensemble.Predict(zeros(new long[] { 1, 3, 128, 128 }, ScalarType.Int64))
                )
                .Message
        );
        Assert.Contains(
            "NaN",
            Assert
                .Throws<ArgumentException>(() =>
                    ensemble.Predict(TestTensors.Full(new long[] { 1, 3, 128, 128 }, float.NaN))
                )
                .Message
        );
        Assert.Contains(
            "MaxInputSide",
            Assert.Throws<ArgumentException>(() => ensemble.Predict(zeros(1, 3, 20000, 1))).Message
        );
        Assert.Contains(
            "non-empty",
            Assert.Throws<ArgumentException>(() => ensemble.Predict(zeros(0, 3, 128, 128))).Message
        );
        Assert.Throws<FileNotFoundException>(() => ensemble.Predict("/no/such/image.png"));
    }

    [Fact]
    public void PredictionsComeBackAtTheInputResolution()
    {
        using var scope = NewDisposeScope();
        var large = nn.functional.interpolate(
            _trained.Image.unsqueeze(0),
            new long[] { 200, 300 },
            mode: InterpolationMode.Bilinear
        );
        var prediction = _trained.Ensemble.Predict(large).Single();
        Assert.Equal(new long[] { 1, 200, 300 }, prediction.AnomalyMap.shape);
        Assert.Equal(new long[] { 1, 200, 300 }, prediction.Mask.shape);
        Assert.All(prediction.Boxes, b => Assert.True(b.X2 <= 300 && b.Y2 <= 200 && b.X1 < b.X2 && b.Y1 < b.Y2));
    }

    [Fact]
    public void AtTheImageSizeEachPredictionOwnsThePipelinesMapsUnresized()
    {
        using var scope = NewDisposeScope();
        var ensemble = _trained.Ensemble;
        var image = nn.functional.interpolate(
            _trained.Image.unsqueeze(0),
            new long[] { 128, 128 },
            mode: InterpolationMode.Bilinear
        )[0];
        var batch = stack(new[] { image, image.flip(2) });
        var predictor = ensemble.Predictor!;
        using var output = predictor.Pipeline.Finish(predictor.PredictPositions(batch, makeResident: true), 0, 2);
        var predictions = ensemble.Predict(batch);
        for (int i = 0; i < 2; i++)
        {
            // Resizing to the same size would be the identity, bit for bit: skipping it changes nothing.
            var resized = nn.functional.interpolate(
                output.Maps[i..(i + 1)],
                new long[] { 128, 128 },
                mode: InterpolationMode.Bilinear,
                align_corners: false
            )[0];
            Assert.True(Same(resized, predictions[i].AnomalyMap));
            Assert.True(Same(output.Masks[i], predictions[i].Mask));
        }

        // Each prediction owns its tensors: disposing one leaves the other intact.
        var second = predictions[1].AnomalyMap.clone();
        predictions[0].Dispose();
        Assert.True(Same(second, predictions[1].AnomalyMap));
        predictions[1].Dispose();
    }

    [Fact]
    public async Task JoiningInChunksOfImagesGivesTheSamePredictionsAndMetricsAsTheWholeBatch()
    {
        using var scope = NewDisposeScope();
        var ensemble = _trained.Ensemble;
        var pipeline = ensemble.Predictor!.Pipeline;
        var image = nn.functional.interpolate(
            _trained.Image.unsqueeze(0),
            new long[] { 128, 128 },
            mode: InterpolationMode.Bilinear
        )[0];
        var batch = stack(
            new[] { image, image.flip(2), image.flip(1), image.roll(40, 2), image.mul(TestTensors.Scalar(0.8)) }
        );
        var samples = _trained.TestSamples;
        Assert.Equal(256, pipeline.ImagesPerChunk); // 16 MiB of 128² float maps: one chunk here
        var whole = ensemble.Predict(batch);
        var wholeMetrics = (await ensemble.EvaluateAsync(samples)).Metrics;
        try
        {
            pipeline.ChunkBytes = 2 * 128 * 128 * sizeof(float); // chunks of 2, 2 and 1 images
            Assert.Equal(2, pipeline.ImagesPerChunk);
            var chunked = ensemble.Predict(batch);
            var chunkedMetrics = (await ensemble.EvaluateAsync(samples)).Metrics;
            Assert.Equal(whole.Count, chunked.Count);
            for (int i = 0; i < whole.Count; i++)
            {
                Assert.True(Same(whole[i].AnomalyMap, chunked[i].AnomalyMap), $"map {i}");
                Assert.True(Same(whole[i].Mask, chunked[i].Mask), $"mask {i}");
                Assert.Equal(whole[i].Score, chunked[i].Score);
                Assert.Equal(whole[i].Label, chunked[i].Label);
                Assert.Equal(whole[i].Boxes, chunked[i].Boxes);
            }

            Assert.Contains(whole, p => p.Boxes.Count > 0);
            Assert.Equal(wholeMetrics, chunkedMetrics);
        }
        finally
        {
            pipeline.ChunkBytes = EnsemblePipeline.DefaultChunkBytes;
        }
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
    }
}
