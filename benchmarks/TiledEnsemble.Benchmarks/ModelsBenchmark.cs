using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.Patchcore;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Padim and Patchcore at 256×256 (or 64×64 quick): train time per image and inference images/s, next to the bare
/// backbone forward (the layers each model needs) measured in the same run — the physical bound for these models.
/// </summary>
internal static class ModelsBenchmark
{
    public static void Run(bool quick)
    {
        int size = quick ? 64 : 256,
            trainCount = quick ? 8 : 32,
            testCount = quick ? 4 : 16,
            batch = 8;
        Console.WriteLine(
            $"## Padim and Patchcore at {size}x{size} (ResNet-18, seeded weights; {trainCount} train, {testCount} "
                + $"test images, batch {batch})"
        );
        var options = new DefectDatasetOptions { ImageSize = size, Seed = 3 };
        using var scope = NewDisposeScope();
        var train = stack(
            Enumerable
                .Range(0, trainCount)
                .Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, i).Clean)
                .ToArray()
        );
        var test = stack(
            Enumerable
                .Range(0, testCount)
                .Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, 100 + i).Defective)
                .ToArray()
        );
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);

        string exactSearch = string.Empty;
        Console.WriteLine(
            "| model | train s/image | inference images/s (median) | backbone bound images/s (median) | ratio to "
                + "bound (median of 5 paired passes) |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var kind in new[] { ModelKind.Padim, ModelKind.Patchcore })
        {
            var layers =
                kind == ModelKind.Padim ? new[] { "layer1", "layer2", "layer3" } : new[] { "layer2", "layer3" };
            using IAnomalyModel model =
                kind == ModelKind.Padim
                    ? new PadimModel(backbone)
                    : new PatchcoreModel(backbone, new PatchcoreOptions { Backbone = "resnet18" });
            var watch = Stopwatch.StartNew();
            model.Fit(BenchmarkBatches.Of(train, batch));
            double trainPerImage = watch.Elapsed.TotalSeconds / trainCount;

            var measured = PairedPasses.Measure(
                5,
                () => Throughput(test, batch, images => model.Predict(images).Dispose()),
                () => Throughput(test, batch, images =>
                    {
                        using var s = NewDisposeScope();
                        using var i = inference_mode();
                        backbone.Features(images, layers);
                    })
            );
            Console.WriteLine(
                $"| {kind} | {trainPerImage:F4} | {measured.Model:F1} | {measured.Bound:F1} | {measured.Ratio:F2} "
                    + $"(range {measured.MinRatio:F2}–{measured.MaxRatio:F2}) |"
            );
            if (model is PatchcoreModel patchcore)
            {
                exactSearch = ExactSearchCeiling(patchcore, test, batch, measured.Bound);
            }
        }

        Console.WriteLine();
        Console.WriteLine(exactSearch);

        Console.WriteLine();
    }

    /// <summary>Patchcore's exact-search floor at this size and what it leaves of the bound (see
    /// <see cref="ExactSearchFloor"/>).</summary>
    private static string ExactSearchCeiling(PatchcoreModel model, Tensor test, int batch, double boundImagesPerSecond)
    {
        var bank = model.MemoryBank;
        long patchesPerImage = (test.shape[2] / 8) * (test.shape[3] / 8); // layer2's grid: stride 8
        double productPerImage = ExactSearchFloor.SecondsPerImage(new[] { bank }, patchesPerImage, batch, 5);
        double backbonePerImage = 1 / boundImagesPerSecond;
        double ceiling = ExactSearchFloor.Ceiling(backbonePerImage, productPerImage);
        return (
            $"Patchcore exact-search floor: the product of {patchesPerImage} query patches with {bank.shape[0]} bank "
            + $"entries of {bank.shape[1]} channels takes {productPerImage * 1000:F1} ms per image against "
            + $"{backbonePerImage * 1000:F1} ms for the backbone: an exact search cannot exceed {ceiling:F2} "
            + $"of the bound here."
        );
    }

    /// <summary>Images per second over one pass of the set.</summary>
    private static double Throughput(Tensor images, int batch, Action<Tensor> run)
    {
        var watch = Stopwatch.StartNew();
        foreach (var b in BenchmarkBatches.Of(images, batch))
        {
            run(b);
        }

        return images.shape[0] / watch.Elapsed.TotalSeconds;
    }
}
