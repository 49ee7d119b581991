using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Training;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Accepting parts without defective samples: anomalib's way (validation = test, F1-adaptive thresholds, no
/// calibration) against calibration per position and per pixel on held-out good training images, for the tiled
/// ensemble at the quality benchmark's scale (image S, 3×3 tiles of S/2), on the real photographs, the generated
/// fabric and generated aligned parts. Image AUROC of every aggregation and the share of defects caught at 1 % of good
/// parts rejected, from the same predictions; AUPRO beside them.
/// </summary>
internal static class CalibrationBenchmark
{
    private const double HeldOut = 0.25;

    /// <summary>Column names of the aggregations, in <see cref="ImageScores.Aggregations"/> order.</summary>
    private static readonly string[] Short = { "mean pos", "max pos", "max map", "top-k map" };

    /// <summary>
    /// The ways compared. "from_train, no calibration" separates what holding good images out of training costs from
    /// what calibrating on them gains.
    /// </summary>
    private static readonly (string Name, PositionCalibration Calibration, bool HoldOut)[] Ways =
    {
        ("anomalib (same_as_test, F1)", PositionCalibration.None, false),
        ("from_train, no calibration", PositionCalibration.None, true),
        ("per position (from_train)", PositionCalibration.PerPosition, true),
        ("per pixel (from_train)", PositionCalibration.PerPixel, true),
    };

    /// <summary>Runs the benchmark; <paramref name="onlyData"/>, when not empty, names the data sets to run (as the
    /// table names them), <paramref name="ways"/> the ways: a number N for the first N (from anomalib's), or the
    /// beginnings of their names, comma-separated ("anomalib,per position"), and
    /// <paramref name="layers"/>, when not empty, the models' feature layers; gradient-trained models run at most
    /// <paramref name="epochs"/> epochs, and with <paramref name="goodLossPatience"/> the ways on held-out good images
    /// keep the epoch of least loss on them, stopping after that many epochs without a lower one (anomalib's way keeps
    /// its pixel AUROC on the test images).</summary>
    public static void Run(
        bool quick,
        int scale,
        int seedCount,
        int firstSeed,
        int epochs,
        IReadOnlyCollection<string> onlyModels,
        IReadOnlyCollection<string> onlyData,
        string ways,
        IReadOnlyList<string> layers,
        int? goodLossPatience = null
    )
    {
        var chosen = int.TryParse(ways, out int first)
            ? Ways.Take(first).ToArray()
            : Ways.Where(w =>
                    ways.Split(',', StringSplitOptions.RemoveEmptyEntries)
                        .Any(n => w.Name.StartsWith(n.Trim(), StringComparison.OrdinalIgnoreCase))
                )
                .ToArray();
        if (chosen.Length == 0)
        {
            throw new ArgumentException(
                $"--ways '{ways}' names none of: {string.Join("; ", Ways.Select(w => w.Name))}."
            );
        }

        Action<TiledEnsembleBuilder> Tune(bool holdOut, EpochRecorder recorder) =>
            b =>
                b.WithLogging(recorder)
                    .WithModelSettings(m =>
                    {
                        m.MaxEpochs = epochs;
                        if (layers.Count > 0)
                        {
                            m.Layers = layers.ToList();
                        }

                        if (holdOut && goodLossPatience is { } patience)
                        {
                            m.EarlyStoppingMonitor = TrainingMetric.GoodImageLoss;
                            m.EarlyStoppingPatience = patience;
                        }
                    });
        var (full, seeds, models, trainCount, testGood, perDefect) = Scale(
            quick,
            scale,
            seedCount,
            firstSeed,
            onlyModels
        );
        var photos = SurfacePhotoDataset.Locate();
        var shape = (full, trainCount, testGood, perDefect);
        var datasets = new List<string>();
        if (photos is not null && !quick)
        {
            datasets.AddRange(SurfacePhotoDataset.Photos);
        }

        datasets.Add("generated");
        datasets.Add("aligned parts");
        datasets.Add(QualityData.FaintParts);
        datasets.RemoveAll(d => onlyData.Count > 0 && !onlyData.Contains(d, StringComparer.OrdinalIgnoreCase));

        var aggregations = ImageScores.Aggregations.Select(ImageScores.Name).ToArray();
        Console.WriteLine(
            $"## Calibration: anomalib's way against calibration on held-out good images (tiled {full}, 3×3 tiles of "
                + $"{full / 2}; {DescribeSeeds(seeds)}; ImageNet ResNet-18 of TiledEnsemble.Pretrained"
                + $"{(layers.Count == 0 ? string.Empty : $"; layers {string.Join(", ", layers)}")}; gradient-trained "
                + $"models at most {epochs} epochs"
                + $"{(goodLossPatience is { } p ? $", held out: least loss on the good images, patience {p}" : "")})"
        );
        Console.WriteLine(
            $"Data: {string.Join(", ", datasets)}; {trainCount} good training images (calibration holds out "
                + $"{HeldOut:P0} of them and fits on the rest), {testGood} good and {perDefect * 3} defective test "
                + $"images (defects 0.2 % of the image). Image AUROC and TPR at 1 % FPR by image-score aggregation "
                + "(mean of positions, max of positions, max of map, top-k mean of map), pixel AUPRO; means over seeds."
        );
        Console.WriteLine(
            $"| data | model | way | {string.Join(" | ", Short.Select(a => $"AUROC {a}"))} | "
                + $"{string.Join(" | ", Short.Select(a => $"TPR@1% {a}"))} | AUPRO |"
        );
        Console.WriteLine($"| --- | --- | --- |{string.Concat(Short.Concat(Short).Select(_ => " --- |"))} --- |");
        foreach (var dataset in datasets)
        {
            foreach (var model in models)
            {
                var results = chosen.ToDictionary(w => w.Name, _ => new List<IReadOnlyDictionary<string, double>>());
                var trainingLengths = chosen.ToDictionary(w => w.Name, _ => new EpochRecorder());
                QualityData.ForEachSeed(dataset, photos, shape, seeds, (root, category, seed) =>
                {
                    foreach (var (name, calibration, holdOut) in chosen)
                    {
                        trainingLengths[name].Seed = seed;
                        var tune = Tune(holdOut, trainingLengths[name]);
                        results[name].Add(Evaluate(root, category, model, full, seed, calibration, holdOut, tune));
                    }
                });

                foreach (var (name, runs) in results)
                {
                    string Mean(string key) => FormattableString.Invariant($"{runs.Average(r => r[key]):F4}");
                    var aurocs = aggregations.Select(a => Mean($"image_AUROC_{a}"));
                    var caught = aggregations.Select(a => Mean($"image_TPR_at_1pct_FPR_{a}"));
                    Console.WriteLine(
                        $"| {dataset} | {model} | {name} | {string.Join(" | ", aurocs)} | {string.Join(" | ", caught)} "
                            + $"| {Mean("pixel_AUPRO")} |"
                    );
                }

                // Outside the table's rows, so that runs of other seeds can be joined to the printed decimals.
                foreach (var (name, runs) in results)
                {
                    var perSeed = seeds.Zip(runs, (seed, r) => $"seed {seed} {DescribeRun(r, aggregations)}");
                    Console.WriteLine($"Per seed, {dataset}, {model}, {name}: {string.Join("; ", perSeed)}.");
                }

                // Outside the table's rows, so that a run stopped early keeps them: how long each position trained.
                foreach (var (name, recorder) in trainingLengths.Where(r => r.Value.Positions.Count > 0))
                {
                    string lengths = EpochRecorder.Describe(recorder.Positions);
                    Console.WriteLine($"Epochs per position, {dataset}, {model}, {name}: {lengths}.");
                    if (recorder.KeptEarly.Count > 0)
                    {
                        Console.WriteLine(
                            $"Kept early, {dataset}, {model}, {name}: {string.Join("; ", recorder.KeptEarly)}."
                        );
                    }
                }
            }
        }

        Console.WriteLine();
    }

    /// <summary>The seeds of a run as its header names them: "seeds 1–3", "seed 3".</summary>
    internal static string DescribeSeeds(IReadOnlyList<int> seeds) =>
        seeds.Count == 1 ? $"seed {seeds[0]}" : $"seeds {seeds[0]}–{seeds[^1]}";

    private static string DescribeRun(IReadOnlyDictionary<string, double> run, IReadOnlyList<string> aggregations)
    {
        string Each(string metric) =>
            string.Join(
                "/",
                aggregations.Select(a => run[$"{metric}_{a}"].ToString("F4", CultureInfo.InvariantCulture))
            );
        string aupro = run["pixel_AUPRO"].ToString("F5", CultureInfo.InvariantCulture);
        return $"AUROC {Each("image_AUROC")}, TPR@1% {Each("image_TPR_at_1pct_FPR")}, AUPRO {aupro}";
    }

    /// <summary>
    /// The image size, seeds, models and image counts of a run of this benchmark (and of the levers benchmark, which
    /// measures on the same data): Padim and Patchcore unless <paramref name="onlyModels"/> names others, 20 good
    /// training images, 10 good and 12 defective test images.
    /// </summary>
    internal static (int Full, int[] Seeds, ModelKind[] Models, int TrainCount, int TestGood, int PerDefect) Scale(
        bool quick,
        int scale,
        int seedCount,
        int firstSeed,
        IReadOnlyCollection<string> onlyModels
    )
    {
        var models =
            onlyModels.Count > 0
                ? Enum.GetValues<ModelKind>()
                    .Where(m => onlyModels.Contains(m.ToString(), StringComparer.OrdinalIgnoreCase))
                    .ToArray()
            : quick ? new[] { ModelKind.Padim }
            : new[] { ModelKind.Padim, ModelKind.Patchcore };
        return (
            quick ? 64 : scale,
            Enumerable.Range(firstSeed, quick ? 1 : seedCount).ToArray(),
            models,
            quick ? 8 : 20,
            quick ? 2 : 10,
            quick ? 1 : 4
        );
    }

    /// <summary>
    /// Fits the tiled ensemble (image <paramref name="image"/>, 3×3 tiles of half of it) on one written data set and
    /// returns its test metrics; <paramref name="tune"/> changes the builder last (the levers benchmark).
    /// </summary>
    internal static IReadOnlyDictionary<string, double> Evaluate(
        string root,
        string category,
        ModelKind model,
        int image,
        int seed,
        PositionCalibration calibration,
        bool holdOut,
        Action<TiledEnsembleBuilder>? tune = null,
        string run = ""
    )
    {
        var split = holdOut
            ? new SplitOptions { ValSplitMode = ValSplitMode.FromTrain, ValSplitRatio = HeldOut }
            : new SplitOptions();
        var loader = new LoaderOptions
        {
            ImageSize = image,
            TrainBatchSize = 8,
            EvalBatchSize = 8,
            NumWorkers = 1,
        };
        var data = AnomalyDataModule.MvtecAD(root, category, split, loader);
        var builder = TiledEnsembleBuilder
            .Create()
            .WithImageSize(image)
            .WithTiling(image / 2, image / 4)
            .WithModel(model)
            .WithBatchSizes(8, 8)
            .WithSeed(seed);
        if (holdOut)
        {
            // Min-max normalization from good images alone clamps every pixel beyond their range to 1, tying them for
            // the pixel metrics; without normalization the maps keep their ranking (docs/calibration.md).
            builder
                .WithCalibration(calibration)
                .WithNormalization(PostProcessing.Stage.None)
                .WithFalseRejectRate(0.01);
        }

        tune?.Invoke(builder);
        using var ensemble = builder.Build();
        ensemble
            .FitAsync(data, Path.Combine(root, $"run-{model}-{calibration}-{holdOut}{run}"))
            .GetAwaiter()
            .GetResult();
        return ensemble
            .EvaluateAsync(data.Test, new EvaluationOptions { Resolution = MetricResolution.Original })
            .GetAwaiter()
            .GetResult()
            .Metrics;
    }
}
