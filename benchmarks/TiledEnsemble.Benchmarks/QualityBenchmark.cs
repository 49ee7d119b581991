using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Quality on generated textures with small defects: pixel AUROC and AUPRO of the tiled ensemble (image 512, tiles 256,
/// stride 128) against one model at 256 and one at 512, for Padim and Patchcore, over several data/model seeds.
/// </summary>
/// <remarks>
/// Both models use the ImageNet-trained ResNet-18 of TiledEnsemble.Pretrained (Patchcore's anomalib default,
/// Wide-ResNet-50-2, has no weights here). Each configuration is evaluated at its own image size, against masks resized
/// to it: the single model at 256 is judged on the defects as it sees them.
/// </remarks>
internal static class QualityBenchmark
{
    public static void Run(bool quick)
    {
        int full = quick ? 128 : 512, tile = full / 2, stride = full / 4;
        int[] seeds = quick ? new[] { 1 } : new[] { 1, 2, 3 };
        Console.WriteLine($"## Quality: tiled ensemble vs single models ({seeds.Length} seed(s); generated fabric, defects of 0.2 % of the image; ImageNet ResNet-18 of TiledEnsemble.Pretrained)");
        Console.WriteLine("| model | configuration | pixel AUROC mean ± sd | AUPRO mean ± sd | image AUROC mean |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        var configurations = new (string Name, int Image, int Tile, int Stride)[]
        {
            ($"tiled {full}, tiles {tile}, stride {stride}", full, tile, stride),
            ($"single at {tile}", tile, tile, tile),
            ($"single at {full}", full, full, full),
        };
        foreach (var model in new[] { ModelKind.Padim, ModelKind.Patchcore })
        {
            var results = configurations.ToDictionary(c => c.Name, _ => new List<(double Pixel, double Aupro, double Image)>());
            foreach (int seed in seeds)
            {
                var root = Directory.CreateTempSubdirectory("bench-quality-").FullName;
                try
                {
                    DefectDatasetGenerator.Write(root, new DefectDatasetOptions
                    {
                        ImageSize = full, TrainCount = quick ? 6 : 16, TestGoodCount = quick ? 2 : 6, TestPerDefect = quick ? 1 : 3, DefectAreaFraction = 0.002, Seed = seed,
                    });
                    foreach (var (name, image, tileSize, strideSize) in configurations)
                    {
                        results[name].Add(Evaluate(root, model, image, tileSize, strideSize, seed));
                    }
                }
                finally
                {
                    Directory.Delete(root, recursive: true);
                }
            }

            foreach (var (name, values) in results)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"| {model} | {name} | {Mean(values.Select(v => v.Pixel)):F4} ± {Spread(values.Select(v => v.Pixel)):F4} | {Mean(values.Select(v => v.Aupro)):F4} ± {Spread(values.Select(v => v.Aupro)):F4} | {Mean(values.Select(v => v.Image)):F4} |"));
            }

            BenchmarkCharts.Bars(
                $"quality-{model.ToString().ToLowerInvariant()}.png",
                $"{model}: tiled ensemble against single models ({seeds.Length} seeds)",
                "mean",
                new[] { "pixel AUROC", "AUPRO", "image AUROC" },
                results.Select(r => (r.Key, new[] { Mean(r.Value.Select(v => v.Pixel)), Mean(r.Value.Select(v => v.Aupro)), Mean(r.Value.Select(v => v.Image)) })).ToList(),
                yMin: 0.8);
        }

        Console.WriteLine();
    }

    private static (double Pixel, double Aupro, double Image) Evaluate(string root, ModelKind model, int image, int tile, int stride, int seed)
    {
        var loader = new LoaderOptions { ImageSize = image, TrainBatchSize = 8, EvalBatchSize = 8, NumWorkers = 1 };
        var data = AnomalyDataModule.MvtecAD(root, "fabric", new SplitOptions(), loader);
        using var ensemble = TiledEnsembleBuilder.Create().WithImageSize(image).WithTiling(tile, stride)
            .WithModel(model, m => m.Backbone = "resnet18").WithBatchSizes(8, 8).WithSeed(seed).Build();
        var run = Path.Combine(root, $"run-{model}-{image}-{tile}-{stride}");
        ensemble.FitAsync(data, run).GetAwaiter().GetResult();
        var result = ensemble.EvaluateAsync(data.Test).GetAwaiter().GetResult();
        return (result.Metrics["pixel_AUROC"], result.Metrics["pixel_AUPRO"], result.Metrics["image_AUROC"]);
    }

    private static double Mean(IEnumerable<double> values) => values.Average();

    private static double Spread(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count < 2)
        {
            return 0;
        }

        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }
}
