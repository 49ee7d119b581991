using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Patchcore;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Patchcore's fit of one tile position at the seed's configuration (tiles of 256² cut from 512² images, batch 32,
/// ResNet-18 layers 2–3, coreset ratio 0.1), for growing numbers of training images: the whole fit next to its two
/// parts timed alone in the same run, the backbone's embedding of the same tiles and the k-center selection on them.
/// Runs under the allocator setting of training, as an ensemble's fit does.
/// </summary>
internal static class PatchcoreTrainingBenchmark
{
    public static void Run(bool quick)
    {
        int size = quick ? 128 : 512,
            tile = size / 2,
            batch = 32;
        var counts = quick ? new[] { 2, 4 } : new[] { 10, 20, 40 };
        Console.WriteLine(
            $"## Patchcore fit of one position ({tile}² tiles of {size}² generated images, batch {batch}, ResNet-18 "
                + $"seeded, layers 2–3, coreset ratio 0.1)"
        );
        Console.WriteLine(
            "| training images | patches | fit s | embedding s | k-center s | fit / (embedding + k-center) | (fit − "
                + "k-center) s per image |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        using var training = TiledEnsemble.Hosting.NativeAllocator.BeginTraining(NullLogger.Instance);
        using var scope = NewDisposeScope();
        var options = new DefectDatasetOptions { ImageSize = size, Seed = 5 };

        // The centre position of a 3×3 grid with stride size/4: rows and columns size/4 .. size/4 + tile.
        var tiles = stack(
                Enumerable
                    .Range(0, counts.Max())
                    .Select(i =>
                        DefectDatasetGenerator
                            .RenderDefective(options, DefectKind.Spot, i)
                            .Clean.narrow(1, size / 4, tile)
                            .narrow(2, size / 4, tile)
                    )
                    .ToArray()
            )
            .contiguous();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        var patchcore = new PatchcoreOptions();
        Fit(backbone, patchcore, tiles.narrow(0, 0, counts[0]), batch); // warm-up: kernels, allocator
        foreach (int count in counts)
        {
            var images = tiles.narrow(0, 0, count);
            double fit = Fit(backbone, patchcore, images, batch);
            using var model = new PatchcoreModel(backbone, patchcore);
            Tensor patches = empty(0);
            double embedding = Timing.Seconds(() =>
            {
                using var mode = inference_mode();
                patches = cat(
                    BenchmarkBatches
                        .Of(images, batch)
                        .Select(b =>
                        {
                            var e = model.Embed(b);
                            return e.permute(0, 2, 3, 1).reshape(-1, e.shape[1]);
                        })
                        .ToArray(),
                    0
                );
            });
            int keep = Math.Max(1, (int)(patches.shape[0] * patchcore.CoresetSamplingRatio));
            double kcenter = Timing.Seconds(() =>
            {
                using var mode = inference_mode();
                KCenterGreedy.Select(patches, keep, patchcore.Seed, patchcore.ProjectionDimension);
            });
            Console.WriteLine(
                (
                    $"| {count} | {patches.shape[0]} | {fit:F1} | {embedding:F1} | {kcenter:F1} | "
                    + $"{fit / (embedding + kcenter):F2} | {(fit - kcenter) / count:F3} |"
                )
            );
        }

        Console.WriteLine();
    }

    private static double Fit(ResNet backbone, PatchcoreOptions options, Tensor images, int batch)
    {
        using var model = new PatchcoreModel(backbone, options);
        return Timing.Seconds(() => model.Fit(BenchmarkBatches.Of(images, batch)));
    }
}
