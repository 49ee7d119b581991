using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TiledEnsemble.Configuration;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The levers beside calibration, one at a time, on the calibrated way (held-out good images, calibration per
/// position, false-reject thresholds, no normalization): the maps' blur, higher-resolution feature layers,
/// Patchcore's neighbours and the top-k size, against the models' defaults on the same data and seeds. Tiny defects
/// (0.2 % of the image) are what the image decision misses; each lever is one the issue named as a suspect.
/// </summary>
internal static class LeversBenchmark
{
    private static readonly string[] Short = { "mean pos", "max pos", "max map", "top-k map" };

    private sealed record Lever(string Name, ModelKind? Only, Action<TiledEnsembleBuilder> Tune);

    private static readonly Lever[] Levers =
    {
        new("defaults", null, _ => { }),
        new("blur σ 2", ModelKind.Padim, b => b.WithModelSettings(m => m.BlurSigma = 2)),
        new("blur σ 1", null, b => b.WithModelSettings(m => m.BlurSigma = 1)),
        new("layers 1–2", null, b => b.WithModelSettings(m => m.Layers = new List<string> { "layer1", "layer2" })),
        new("top-k 25", ModelKind.Padim, b => b.WithImageScore(ImageScoreAggregation.MeanOfPositions, 25)),
        new("1 neighbour", ModelKind.Patchcore, b => b.WithModelSettings(m => m.NumNeighbors = 1)),
        new("layers 1–3", ModelKind.Patchcore, b =>
            b.WithModelSettings(m => m.Layers = new List<string> { "layer1", "layer2", "layer3" })
        ),
    };

    /// <summary>Runs the benchmark; <paramref name="onlyLevers"/>, when not empty, names the levers to run.</summary>
    public static void Run(
        bool quick,
        int scale,
        int seedCount,
        int firstSeed,
        IReadOnlyCollection<string> onlyModels,
        IReadOnlyCollection<string> onlyLevers
    )
    {
        var (full, seeds, models, trainCount, testGood, perDefect) = CalibrationBenchmark.Scale(
            quick,
            scale,
            seedCount,
            firstSeed,
            onlyModels
        );
        var photos = SurfacePhotoDataset.Locate();
        var shape = (full, trainCount, testGood, perDefect);
        var datasets = photos is not null && !quick ? SurfacePhotoDataset.Photos.ToArray() : new[] { "generated" };
        var aggregations = ImageScores.Aggregations.Select(ImageScores.Name).ToArray();
        Console.WriteLine(
            $"## Levers: blur, layers, neighbours and top-k size on the calibrated way (tiled {full}, 3×3 tiles of "
                + $"{full / 2}; {CalibrationBenchmark.DescribeSeeds(seeds)}; "
                + "ImageNet ResNet-18 of TiledEnsemble.Pretrained)"
        );
        Console.WriteLine(
            $"Data: {string.Join(", ", datasets)}; {trainCount} good training images (a quarter held out), {testGood} "
                + $"good and {perDefect * 3} defective test images (defects 0.2 % of the image). Calibration per "
                + "position, false-reject thresholds, no normalization. Image AUROC by aggregation, TPR at 1 % FPR of "
                + "the top-k mean of the map, pixel AUPRO; means over seeds."
        );
        string columns = $"{string.Join(" | ", Short.Select(a => $"AUROC {a}"))} | TPR@1% top-k map | AUPRO |";
        Console.WriteLine($"| data | model | lever | {columns}");
        Console.WriteLine($"| --- | --- | --- |{string.Concat(Short.Select(_ => " --- |"))} --- | --- |");
        var summary = new Dictionary<(ModelKind, string), List<double[]>>();
        foreach (var dataset in datasets)
        {
            var results = new Dictionary<(ModelKind, string), List<IReadOnlyDictionary<string, double>>>();
            QualityData.ForEachSeed(dataset, photos, shape, seeds, (root, category, seed) =>
            {
                foreach (var model in models)
                {
                    var levers = Levers.Where(l =>
                        (l.Only is null || l.Only == model)
                        && (onlyLevers.Count == 0 || onlyLevers.Contains(l.Name, StringComparer.OrdinalIgnoreCase))
                    );
                    foreach (var lever in levers)
                    {
                        var metrics = CalibrationBenchmark.Evaluate(
                            root,
                            category,
                            model,
                            full,
                            seed,
                            PositionCalibration.PerPosition,
                            holdOut: true,
                            lever.Tune,
                            $"-{Array.IndexOf(Levers, lever)}"
                        );
                        if (!results.TryGetValue((model, lever.Name), out var list))
                        {
                            results[(model, lever.Name)] = list = new();
                        }

                        list.Add(metrics);
                    }
                }
            });

            foreach (var ((model, lever), runs) in results)
            {
                var keys = aggregations
                    .Select(a => $"image_AUROC_{a}")
                    .Append($"image_TPR_at_1pct_FPR_{aggregations[^1]}")
                    .Append("pixel_AUPRO");
                var means = keys.Select(k => runs.Average(r => r[k])).ToArray();
                if (!summary.TryGetValue((model, lever), out var rows))
                {
                    summary[(model, lever)] = rows = new();
                }

                rows.Add(means);
                Console.WriteLine($"| {dataset} | {model} | {lever} | {Cells(means)} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Mean over {string.Join(", ", datasets)}:");
        Console.WriteLine($"| model | lever | {columns}");
        Console.WriteLine($"| --- | --- |{string.Concat(Short.Select(_ => " --- |"))} --- | --- |");
        foreach (var ((model, lever), rows) in summary)
        {
            var means = Enumerable.Range(0, rows[0].Length).Select(i => rows.Average(r => r[i])).ToArray();
            Console.WriteLine($"| {model} | {lever} | {Cells(means)} |");
        }

        Console.WriteLine();
    }

    private static string Cells(IEnumerable<double> values) =>
        string.Join(" | ", values.Select(v => FormattableString.Invariant($"{v:F4}")));
}
