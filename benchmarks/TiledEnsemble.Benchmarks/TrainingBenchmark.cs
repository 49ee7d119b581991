using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Stfpm;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// FastFlow, STFPM and Reverse Distillation: seconds per training epoch per 100 tiles, next to the frozen backbone's
/// forward pass over the same tiles in the same run (what each step must at least compute).
/// </summary>
internal static class TrainingBenchmark
{
    public static void Run(bool quick)
    {
        int size = quick ? 64 : 256,
            tiles = quick ? 8 : 32,
            batch = 8;
        Console.WriteLine(
            $"## Training epochs at {size}x{size} tiles (ResNet-18, seeded weights; {tiles} tiles, batch {batch}; "
                + $"figures scaled to 100 tiles)"
        );
        var options = new DefectDatasetOptions { ImageSize = size, Seed = 3 };
        using var scope = NewDisposeScope();
        var images = stack(
            Enumerable
                .Range(0, tiles)
                .Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, i).Clean)
                .ToArray()
        );
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        var layers = new[] { "layer1", "layer2", "layer3" };
        double forward =
            Timing.Seconds(() =>
            {
                foreach (var b in BenchmarkBatches.Of(images, batch))
                {
                    using var s = NewDisposeScope();
                    using var i = inference_mode();
                    backbone.Features(b, layers);
                }
            })
            * 100
            / tiles;

        Console.WriteLine("| model | train s/epoch/100 tiles | backbone forward s/100 tiles | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");
        var training = new TrainingOptions { MaxEpochs = 1, Patience = null };
        foreach (var kind in new[] { ModelKind.FastFlow, ModelKind.Stfpm, ModelKind.ReverseDistillation })
        {
            using TrainedAnomalyModel model = kind switch
            {
                ModelKind.FastFlow => new FastflowModel(
                    backbone,
                    new FastflowOptions { InputSize = new Size2D(size, size), Training = training }
                ),
                ModelKind.Stfpm => new StfpmModel(backbone, new StfpmOptions { Training = training }),
                _ => new ReverseDistillationModel(
                    backbone,
                    new ReverseDistillationOptions { Backbone = "resnet18", Training = training }
                ),
            };

            // One warm-up epoch (allocator, kernels), then one timed epoch.
            model.Train(() => BenchmarkBatches.Of(images, batch));
            double epoch = Timing.Seconds(() => model.Train(() => BenchmarkBatches.Of(images, batch))) * 100 / tiles;
            Console.WriteLine($"| {kind} | {epoch:F2} | {forward:F2} | {epoch / forward:F1} |");
        }

        Console.WriteLine();
    }
}
