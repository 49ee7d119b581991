using System;
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
        int size = quick ? 64 : 256, trainCount = quick ? 8 : 32, testCount = quick ? 4 : 16, batch = 8;
        Console.WriteLine($"## Padim and Patchcore at {size}x{size} (ResNet-18, seeded weights; {trainCount} train, {testCount} test images, batch {batch})");
        var options = new DefectDatasetOptions { ImageSize = size, Seed = 3 };
        using var scope = NewDisposeScope();
        var train = stack(Enumerable.Range(0, trainCount).Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, i).Clean).ToArray());
        var test = stack(Enumerable.Range(0, testCount).Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, 100 + i).Defective).ToArray());
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);

        Console.WriteLine("| model | train s/image | inference images/s | backbone bound images/s | ratio to bound |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var kind in new[] { ModelKind.Padim, ModelKind.Patchcore })
        {
            var layers = kind == ModelKind.Padim ? new[] { "layer1", "layer2", "layer3" } : new[] { "layer2", "layer3" };
            double bound = Throughput(test, batch, images => { using var s = NewDisposeScope(); using var i = inference_mode(); backbone.Features(images, layers); });
            using IAnomalyModel model = kind == ModelKind.Padim
                ? new PadimModel(backbone)
                : new PatchcoreModel(backbone, new PatchcoreOptions { Backbone = "resnet18" });
            var watch = Stopwatch.StartNew();
            model.Fit(Batches(train, batch));
            double trainPerImage = watch.Elapsed.TotalSeconds / trainCount;
            double inference = Throughput(test, batch, images => model.Predict(images).Dispose());
            Console.WriteLine($"| {kind} | {trainPerImage:F4} | {inference:F1} | {bound:F1} | {inference / bound:F2} |");
        }

        Console.WriteLine();
    }

    private static System.Collections.Generic.IEnumerable<Tensor> Batches(Tensor images, int batch)
    {
        for (long i = 0; i < images.shape[0]; i += batch)
        {
            yield return images.narrow(0, i, Math.Min(batch, images.shape[0] - i));
        }
    }

    /// <summary>Images per second over the set, after one warm-up pass.</summary>
    private static double Throughput(Tensor images, int batch, Action<Tensor> run)
    {
        foreach (var b in Batches(images, batch))
        {
            run(b);
        }

        var watch = Stopwatch.StartNew();
        foreach (var b in Batches(images, batch))
        {
            run(b);
        }

        return images.shape[0] / watch.Elapsed.TotalSeconds;
    }
}
