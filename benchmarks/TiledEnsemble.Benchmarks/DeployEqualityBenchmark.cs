using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Models;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// ONNX Runtime against the TorchSharp predictor on the demo's data, for each of the five models: the demo
/// configuration (image 256, 3×3 tiles of 128, stride 64; 24 training and 14 test images of generated fabric with
/// defects of 0.2 %), ImageNet ResNet-18, the gradient-trained models for one epoch (equality does not depend on how
/// well they learned). Per model, over every test image: the largest map difference as a share of the map's range, the
/// largest score difference, labels that differ, and mask pixels that differ farther than 1e-4 of the range from the
/// pixel threshold (the tests' criterion; all must be within 1e-4 and zero). Beside them, the floor of float32 for the
/// model: the TorchSharp predictor against itself on the same images moved by one float32 step (every pixel to the
/// next representable value above it), the largest map difference as a share of the range.
/// </summary>
internal static class DeployEqualityBenchmark
{
    public static void Run(bool quick)
    {
        int side = quick ? 64 : 256;
        var models = quick ? new[] { ModelKind.Padim } : Enum.GetValues<ModelKind>();
        Console.WriteLine(
            $"## Deployment: equality on the demo's data ({side}², 3×3 tiles of {side / 2}, ImageNet ResNet-18)"
        );
        Console.WriteLine(
            "| model | test images | map difference / range (max) | score difference (max) | labels differing beyond "
                + "1e-4 of the threshold (on it) | "
                + "mask pixels differing beyond 1e-4 of the threshold | within the tests' tolerance | "
                + "TorchSharp against itself, pixels moved one float32 step: map difference / range (max) |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var root = Directory.CreateTempSubdirectory("bench-equality-").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            DefectDatasetGenerator.Write(
                data,
                new DefectDatasetOptions
                {
                    Category = "fabric",
                    ImageSize = side,
                    TrainCount = quick ? 8 : 24,
                    TestGoodCount = quick ? 2 : 8,
                    TestPerDefect = quick ? 1 : 2,
                    DefectAreaFraction = 0.002,
                    Seed = 42,
                }
            );
            var module = AnomalyDataModule.MvtecAD(
                data,
                "fabric",
                new SplitOptions { Seed = 42 },
                new LoaderOptions
                {
                    ImageSize = side,
                    TrainBatchSize = 8,
                    EvalBatchSize = 8,
                }
            );
            foreach (var model in models)
            {
                Compare(root, module, model, side);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        Console.WriteLine();
    }

    private static void Compare(string root, AnomalyDataModule module, ModelKind model, int side)
    {
        var watch = Stopwatch.StartNew();
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(side)
            .WithTiling(side / 2, side / 4)
            .WithModel(model, m => m.MaxEpochs = 1)
            .WithBatchSizes(8, 8)
            .WithSeed(42)
            .Build();
        var run = Path.Combine(root, $"run-{model}");
        ensemble.FitAsync(module, run).GetAwaiter().GetResult();
        var export = Path.Combine(root, $"export-{model}");
        EnsembleExporter.Export(ensemble.Predictor!, export);
        using var deployed = DeployedEnsemble.Load(export);
        double mapShare = 0,
            scoreDifference = 0,
            floor = 0;
        int labels = 0,
            labelsAtThreshold = 0,
            maskPixels = 0;
        foreach (var sample in module.Test)
        {
            using var scope = NewDisposeScope();
            using var expected = ensemble.Predict(sample.ImagePath);
            var actual = deployed.Predict(sample.ImagePath);
            var map = expected.AnomalyMap.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
            var mask = expected.Mask.to_type(ScalarType.Bool).contiguous().data<bool>().ToArray();
            double range = Math.Max(map.Max() - map.Min(), 1e-6);
            mapShare = Math.Max(mapShare, map.Zip(actual.AnomalyMap, (a, b) => Math.Abs(a - b)).Max() / range);
            scoreDifference = Math.Max(scoreDifference, Math.Abs(expected.Score - actual.Score));
            if (expected.Label != actual.Label)
            {
                // A score on the threshold itself flips with the last bit: F1-adaptive thresholds are one of the
                // validation scores, and with validation = test one test image sits exactly there.
                bool atThreshold = Math.Abs(expected.Score - (deployed.ImageThreshold ?? double.NaN)) <= 1e-4;
                labelsAtThreshold += atThreshold ? 1 : 0;
                labels += atThreshold ? 0 : 1;
            }

            double threshold = deployed.PixelThreshold ?? double.NaN;
            maskPixels += mask.Where((m, i) => m != actual.Mask[i] && !(Math.Abs(map[i] - threshold) <= 1e-4 * range))
                .Count();
            floor = Math.Max(floor, OneStepApart(ensemble, sample.ImagePath) / range);
        }

        bool within = mapShare <= 1e-4 && scoreDifference <= 1e-4 && labels == 0 && maskPixels == 0;
        Console.WriteLine(
            string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"| {model} | {module.Test.Count} | {mapShare:0.0e0} | {scoreDifference:0.0e0} | {labels} "
                    + $"({labelsAtThreshold}) | {maskPixels} | {(within ? "yes" : "NO")} | {floor:0.0e0} |"
            )
        );
        Console.Error.WriteLine($"[{model}] trained, exported and compared in {watch.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>The largest map difference between an image and the same image with every pixel moved to the next
    /// float32 above it, both predicted from tensors: how far rounding alone moves this model's map.</summary>
    private static double OneStepApart(Ensemble ensemble, string imagePath)
    {
        using var scope = NewDisposeScope();
        var pixels = ImageIO.ReadImage(imagePath).contiguous();
        var moved = pixels.data<float>().ToArray().Select(MathF.BitIncrement).ToArray();
        var predictions = ensemble.Predict(stack(new[] { pixels, tensor(moved, pixels.shape) }));
        try
        {
            var maps = predictions
                .Select(p => p.AnomalyMap.to_type(ScalarType.Float32).contiguous().data<float>().ToArray())
                .ToArray();
            return maps[0].Zip(maps[1], (a, b) => (double)Math.Abs(a - b)).Max();
        }
        finally
        {
            foreach (var prediction in predictions)
            {
                prediction.Dispose();
            }
        }
    }
}
