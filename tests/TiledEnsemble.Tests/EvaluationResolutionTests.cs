using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

/// <summary>Pixel metrics at the original resolution or the image size, and image-score aggregations, against
/// references computed here.</summary>
public sealed class EvaluationResolutionTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("resolution-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    // The generated images are 128²; the ensemble works at 64² in 3×3 tiles of 32.
    private static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(32, 16)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8);

    [Fact]
    public async Task PixelMetricsAreComputedOnTheOriginalMasksOrAtTheImageSizeAsAsked()
    {
        using var data = new GeneratedData();
        var module = data.Module();
        using var ensemble = Small().Build();
        await ensemble.FitAsync(module, Path.Combine(_runs, "run"));

        var original = await ensemble.EvaluateAsync(module.Test);
        var atImageSize = await ensemble.EvaluateAsync(
            module.Test,
            new EvaluationOptions { Resolution = MetricResolution.ImageSize }
        );

        // References: the maps Predict returns (at each file's size, or at the image size when given an image of that
        // size) against the mask files as drawn, or resized to the image size as the loader resizes them.
        var (atOriginal, atSmall) = ReferencePixelAuroc(ensemble, module.Test);
        Assert.Equal(atOriginal, original.Metrics["pixel_AUROC"], 3);
        Assert.Equal(atSmall, atImageSize.Metrics["pixel_AUROC"], 3);
        Assert.NotEqual(original.Metrics["pixel_AUROC"], atImageSize.Metrics["pixel_AUROC"]);

        // Image metrics do not depend on the resolution; every aggregation is reported (the configured one is checked
        // against image_AUROC without normalization below).
        Assert.Equal(original.Metrics["image_AUROC"], atImageSize.Metrics["image_AUROC"]);
        Assert.All(ImageScores.Aggregations, a =>
            Assert.InRange(original.Metrics[$"image_AUROC_{ImageScores.Name(a)}"], 0, 1)
        );
    }

    [Fact]
    public async Task TheChosenAggregationMakesTheImageScoreOfPredictionsAndEvaluation()
    {
        using var data = new GeneratedData();
        var module = data.Module();
        using var ensemble = Small()
            .WithImageScore(ImageScoreAggregation.TopKMeanOfMap, topK: 5)
            .WithNormalization(Stage.None)
            .Build();
        await ensemble.FitAsync(module, Path.Combine(_runs, "top-k"));
        Assert.Equal(
            ImageScoreAggregation.TopKMeanOfMap,
            Persistence.RunStore.ReadManifest(ensemble.RunDirectory!).Settings!.ImageScore
        );

        // At the image size the returned map is the joined map itself: the score is the mean of its five largest
        // values.
        using (var scope = NewDisposeScope())
        {
            var image = ImageIO.Resize(
                ImageIO.ReadImage(module.Test.First(s => s.Label == SampleLabel.Anomalous).ImagePath),
                64
            );
            using var prediction = ensemble.Predict(image).Single();
            var largest = prediction
                .AnomalyMap.flatten()
                .data<float>()
                .ToArray()
                .OrderByDescending(v => v)
                .Take(5)
                .Average(v => (double)v);
            Assert.Equal(largest, prediction.RawScore, 4);
        }

        var result = await ensemble.EvaluateAsync(module.Test);
        Assert.Equal(result.Metrics["image_AUROC_top_k_mean_of_map"], result.Metrics["image_AUROC"]);

        // Reopened, the run scores the same way.
        using var reopened = Ensemble.Load(ensemble.RunDirectory!);
        Assert.Equal(ImageScoreAggregation.TopKMeanOfMap, reopened.Settings.ImageScore);
        Assert.Equal(5, reopened.Settings.ImageScoreTopK);
    }

    /// <summary>Exact pixel AUROC (Mann-Whitney, ties counted half) at the files' resolution and at 64².</summary>
    private static (double Original, double ImageSize) ReferencePixelAuroc(
        Ensemble ensemble,
        IReadOnlyList<AnomalySample> samples
    )
    {
        var original = new List<(float, bool)>();
        var small = new List<(float, bool)>();
        foreach (var sample in samples.Where(s => s.Label != SampleLabel.Unknown))
        {
            using var scope = NewDisposeScope();
            var image = ImageIO.ReadImage(sample.ImagePath);
            var mask = sample.MaskPath is null
                ? zeros(1, image.shape[1], image.shape[2])
                : ImageIO.ReadMask(sample.MaskPath);
            using (var full = ensemble.Predict(image).Single())
            {
                Collect(original, full.AnomalyMap, mask);
            }

            using var resized = ensemble.Predict(ImageIO.Resize(image, 64)).Single();
            Collect(small, resized.AnomalyMap, ImageIO.ResizeMask(mask, 64));
        }

        return (Auroc(original), Auroc(small));
    }

    private static void Collect(List<(float, bool)> pixels, Tensor map, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var values = map.flatten().data<float>().ToArray();
        var truth = mask.flatten().data<float>().ToArray();
        Assert.Equal(values.Length, truth.Length);
        pixels.AddRange(values.Zip(truth, (v, t) => (v, t > 0.5f)));
    }

    private static double Auroc(List<(float Score, bool Positive)> pixels)
    {
        var sorted = pixels.OrderBy(p => p.Score).ToArray();
        double rankSum = 0;
        long positives = sorted.LongCount(p => p.Positive),
            negatives = sorted.Length - positives;
        for (int i = 0; i < sorted.Length; )
        {
            int j = i,
                positivesHere = 0;
            while (j < sorted.Length && sorted[j].Score == sorted[i].Score)
            {
                positivesHere += sorted[j].Positive ? 1 : 0;
                j++;
            }

            rankSum += ((i + 1) + j) / 2.0 * positivesHere;
            i = j;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }
}
