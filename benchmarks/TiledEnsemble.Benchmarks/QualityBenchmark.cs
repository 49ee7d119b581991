using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The seed's experiment: every model, tiled ensemble (image S, 3×3 tiles of S/2, stride S/4) against one model at S/2
/// and one at S, several seeds, on generated textures and on real surface photographs with small painted defects.
/// Pixel metrics at the images' original resolution (the same masks for every configuration); image AUROC of every
/// image-score aggregation from the same predictions.
/// </summary>
/// <remarks>
/// Every model runs on the ImageNet ResNet-18 of TiledEnsemble.Pretrained (as the paper). S is 512 in the seed; on two
/// cores `--scale 256` keeps the whole grid within an hour: the ratios between configurations, not the image size, are
/// what the experiment compares. Gradient-trained models run few epochs (printed).
/// </remarks>
internal static class QualityBenchmark
{
    private static readonly ModelKind[] AllModels =
    {
        ModelKind.Padim,
        ModelKind.Patchcore,
        ModelKind.FastFlow,
        ModelKind.Stfpm,
        ModelKind.ReverseDistillation,
    };

    public static void Run(bool quick, int scale, int seedCount, int epochs, IReadOnlyCollection<string> onlyModels)
    {
        int full = quick ? 64 : scale,
            tile = full / 2,
            stride = full / 4;
        var seeds = Enumerable.Range(1, quick ? 1 : seedCount).ToArray();
        var models = quick
            ? new[] { ModelKind.Padim }
            : AllModels
                .Where(m =>
                    onlyModels.Count == 0 || onlyModels.Contains(m.ToString(), StringComparer.OrdinalIgnoreCase)
                )
                .ToArray();
        int trainCount = quick ? 4 : 16,
            testGood = quick ? 2 : 6,
            perDefect = quick ? 1 : 3;
        var configurations = new (string Name, int Image, int Tile, int Stride)[]
        {
            ($"tiled {full}, 3×3 tiles of {tile}", full, tile, stride),
            ($"single {tile}", tile, tile, tile),
            ($"single {full}", full, full, full),
        };

        // Quick mode (CI) runs one photograph, to prove that fetching and assembling the real-photo set still work.
        var photos = SurfacePhotoDataset.Locate();
        var shape = (full, trainCount, testGood, perDefect);
        var datasets = new List<string>();
        if (photos is not null)
        {
            datasets.AddRange(quick ? SurfacePhotoDataset.Photos.Take(1) : SurfacePhotoDataset.Photos);
        }

        datasets.Add("generated");

        Console.WriteLine(
            $"## Quality: tiled ensemble against single models ({string.Join(", ", models)}; {seeds.Length} seed(s); "
                + $"ImageNet ResNet-18 of TiledEnsemble.Pretrained)"
        );
        Console.WriteLine(
            $"Data: {string.Join(", ", datasets)}; {trainCount} training images, {testGood} good and {perDefect * 3} "
                + $"defective test images each (defects 0.2 % of the image: scratch, spot, cut). Gradient-trained "
                + $"models: at most {epochs} epochs. Pixel metrics at the original {full}² resolution."
        );
        Console.WriteLine(
            $"| data | model | configuration | image AUROC "
                + $"({ImageScores.Name(new TiledEnsembleOptions().ImageScore)}) | pixel AUROC | AUPRO | train s | peak "
                + $"RSS MiB |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var all = new List<(string Data, ModelKind Model, string Config, Outcome Outcome)>();
        foreach (var dataset in datasets)
        {
            foreach (var model in models)
            {
                var results = configurations.ToDictionary(c => c.Name, _ => new List<Outcome>());
                QualityData.ForEachSeed(dataset, photos, shape, seeds, (root, category, seed) =>
                {
                    foreach (var (name, image, tileSize, strideSize) in configurations)
                    {
                        var outcome = Evaluate(root, category, model, image, tileSize, strideSize, seed, epochs);
                        results[name].Add(outcome);
                        all.Add((dataset, model, name, outcome));
                    }
                });

                foreach (var (name, values) in results)
                {
                    Console.WriteLine(
                        (
                            $"| {dataset} | {model} | {name} | {Stat(values.Select(v => v.Metrics["image_AUROC"]))} "
                            + $"| {Stat(values.Select(v => v.Metrics["pixel_AUROC"]))} | "
                            + $"{Stat(values.Select(v => v.Metrics["pixel_AUPRO"]))} | "
                            + $"{values.Average(v => v.TrainSeconds):F1} | {values.Max(v => v.PeakMib):F0} |"
                        )
                    );
                }

                // Progress for long runs: this cell's image AUROC by aggregation (tiled), before the summary tables.
                var tiledRuns = results[configurations[0].Name];
                var byAggregation = ImageScores.Aggregations.Select(a =>
                {
                    var name = ImageScores.Name(a);
                    return FormattableString.Invariant(
                        $"{name} {tiledRuns.Average(v => v.Metrics[$"image_AUROC_{name}"]):F4}"
                    );
                });
                Console.Error.WriteLine(
                    $"[{dataset} {model}] tiled image AUROC by aggregation: {string.Join(", ", byAggregation)}"
                );
            }
        }

        foreach (var configuration in configurations)
        {
            PrintAggregations(all, configuration.Name);
        }

        PrintAuproGains(all, configurations);
        foreach (var dataset in datasets)
        {
            BenchmarkCharts.Bars(
                $"quality-{dataset}.png",
                $"AUPRO on {dataset}: tiled ensemble against single models ({seeds.Length} seeds)",
                "AUPRO (mean)",
                models.Select(m => m.ToString()).ToArray(),
                configurations
                    .Select(c =>
                        (
                            c.Name,
                            models
                                .Select(m =>
                                    all.Where(r => r.Data == dataset && r.Model == m && r.Config == c.Name)
                                        .Average(r => r.Outcome.Metrics["pixel_AUPRO"])
                                )
                                .ToArray()
                        )
                    )
                    .ToList(),
                yMin: 0
            );
        }

        Console.WriteLine();
    }

    /// <summary>Image AUROC of every aggregation, tiled configuration, mean over seeds; and how often each beats
    /// anomalib's.</summary>
    private static void PrintAggregations(
        List<(string Data, ModelKind Model, string Config, Outcome Outcome)> all,
        string tiled
    )
    {
        var names = ImageScores.Aggregations.Select(a => $"image_AUROC_{ImageScores.Name(a)}").ToArray();
        Console.WriteLine();
        Console.WriteLine(
            $"Image AUROC by image-score aggregation ({tiled}; mean over seeds; top-k: k = "
                + $"{TiledEnsembleOptions.DefaultImageScoreTopK} pixels at the image size)"
        );
        Console.WriteLine($"| data | model | {string.Join(" | ", ImageScores.Aggregations)} |");
        Console.WriteLine($"| --- | --- |{string.Concat(names.Select(_ => " --- |"))}");
        var cells = all.Where(r => r.Config == tiled).GroupBy(r => (r.Data, r.Model)).ToList();
        var wins = new int[names.Length];
        var sums = new double[names.Length];
        foreach (var cell in cells)
        {
            var means = names.Select(n => cell.Average(r => r.Outcome.Metrics[n])).ToArray();
            for (int a = 0; a < names.Length; a++)
            {
                sums[a] += means[a];
                wins[a] += means[a] > means[0] + 1e-9 ? 1 : 0;
            }

            Console.WriteLine(
                (
                    $"| {cell.Key.Data} | {cell.Key.Model} | "
                    + $"{string.Join(" | ", means.Select(m => m.ToString("F4", CultureInfo.InvariantCulture)))} |"
                )
            );
        }

        var overall = sums.Select(s => (s / Math.Max(1, cells.Count)).ToString("F4", CultureInfo.InvariantCulture));
        Console.WriteLine($"| all | mean | {string.Join(" | ", overall)} |");
        Console.WriteLine(
            $"| all | cells above mean of positions | {string.Join(" | ", wins.Select(w => $"{w} of {cells.Count}"))} |"
        );
    }

    /// <summary>Where the tiled ensemble's AUPRO beats the single model at the tile size.</summary>
    private static void PrintAuproGains(
        List<(string Data, ModelKind Model, string Config, Outcome Outcome)> all,
        (string Name, int Image, int Tile, int Stride)[] configurations
    )
    {
        var cells = all.GroupBy(r => (r.Data, r.Model)).ToList();
        int better = cells.Count(c =>
            c.Where(r => r.Config == configurations[0].Name).Average(r => r.Outcome.Metrics["pixel_AUPRO"])
            > c.Where(r => r.Config == configurations[1].Name).Average(r => r.Outcome.Metrics["pixel_AUPRO"])
        );
        Console.WriteLine();
        Console.WriteLine(
            $"Tiled ensemble above {configurations[1].Name} in mean AUPRO: {better} of {cells.Count} (data, model) "
                + $"cells."
        );
    }

    private static Outcome Evaluate(
        string root,
        string category,
        ModelKind model,
        int image,
        int tile,
        int stride,
        int seed,
        int epochs
    )
    {
        var loader = new LoaderOptions
        {
            ImageSize = image,
            TrainBatchSize = 8,
            EvalBatchSize = 8,
            NumWorkers = 1,
        };
        var data = AnomalyDataModule.MvtecAD(root, category, new SplitOptions(), loader);
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(image)
            .WithTiling(tile, stride)
            .WithModel(model, m => m.MaxEpochs = epochs)
            .WithBatchSizes(8, 8)
            .WithSeed(seed)
            .Build();
        var run = Path.Combine(root, $"run-{model}-{image}-{tile}-{stride}");
        ProcessMemory.ResetPeak();
        var watch = Stopwatch.StartNew();
        ensemble.FitAsync(data, run).GetAwaiter().GetResult();
        double trainSeconds = watch.Elapsed.TotalSeconds;
        var result = ensemble
            .EvaluateAsync(data.Test, new EvaluationOptions { Resolution = MetricResolution.Original })
            .GetAwaiter()
            .GetResult();
        return new Outcome(result.Metrics, trainSeconds, ProcessMemory.Peak() / (1024.0 * 1024.0));
    }

    private static string Stat(IEnumerable<double> values)
    {
        var list = values.ToList();
        double mean = list.Average();
        double spread = list.Count < 2 ? 0 : Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
        return FormattableString.Invariant($"{mean:F4} ± {spread:F4}");
    }

    private sealed record Outcome(IReadOnlyDictionary<string, double> Metrics, double TrainSeconds, double PeakMib);
}
