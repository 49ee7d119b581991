using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Models;

namespace TiledEnsemble.Cli.Commands;

/// <summary>
/// <c>demo</c>: generates a dataset of textures with small defects, trains a tiled Padim ensemble and a single Padim
/// model on the same data (the single model at the tile resolution, the memory of one tile model), evaluates both and
/// prints them side by side with the paths of the pictures.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CommandContext context)
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder for the data, runs and pictures.",
            DefaultValueFactory = _ => new DirectoryInfo("demo-output"),
        };
        var size = new Option<int>("--image-size")
        {
            Description = "Image side of the generated data and the ensemble.",
            DefaultValueFactory = _ => 256,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the data and the models.",
            DefaultValueFactory = _ => 42,
        };
        var random = new Option<bool>("--random-backbone")
        {
            Description =
                "Use a seeded random backbone instead of the ImageNet-trained ResNet-18 (to see what pretrained "
                + "features bring).",
        };
        var command = new Command("demo", "Generate data, train a tiled and a single Padim, compare them.")
        {
            output,
            size,
            seed,
            random,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var folder = parse.GetValue(output)!.FullName;
                int side = parse.GetValue(size);
                int seedValue = parse.GetValue(seed);
                bool pretrained = !parse.GetValue(random);
                if (side < 64 || side % 4 != 0)
                {
                    throw new Config.ConfigException(
                        $"--image-size must be a multiple of 4 of at least 64; got {side}."
                    );
                }

                if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    throw new Config.ConfigException(
                        $"--output '{folder}' is not empty; choose a new folder (nothing there is overwritten)."
                    );
                }

                var watch = Stopwatch.StartNew();
                var data = Path.Combine(folder, "data");
                var options = new DefectDatasetOptions
                {
                    Category = "fabric",
                    Texture = TextureKind.WovenFabric,
                    ImageSize = side,
                    TrainCount = 24,
                    TestGoodCount = 8,
                    TestPerDefect = 2,
                    DefectAreaFraction = 0.002,
                    Seed = seedValue,
                };
                DefectDatasetGenerator.Write(data, options);
                context.Output.WriteLine(
                    $"Generated {options.TrainCount} training and "
                        + $"{options.TestGoodCount + (options.TestPerDefect * options.DefectKinds.Count)} test images "
                        + $"of {side}x{side} (defects of {options.DefectAreaFraction:P1} of the image) in {data}"
                );

                int tile = side / 2;
                var loader = new LoaderOptions
                {
                    ImageSize = side,
                    TrainBatchSize = 8,
                    EvalBatchSize = 8,
                    NumWorkers = 2,
                };
                var module = AnomalyDataModule.MvtecAD(
                    data,
                    "fabric",
                    new SplitOptions { Seed = seedValue },
                    loader,
                    context.Loggers.CreateLogger("data")
                );

                using var tiled = TiledEnsembleBuilder
                    .Create()
                    .WithImageSize(side)
                    .WithTiling(tileSize: tile, stride: tile / 2)
                    .WithModel(ModelKind.Padim)
                    .WithPretrainedBackbone(pretrained)
                    .WithSeed(seedValue)
                    .WithBatchSizes(8, 8)
                    .WithLogging(context.Loggers)
                    .Build();
                context.Output.WriteLine(
                    pretrained
                        ? "Backbone: ResNet-18 with ImageNet weights (TiledEnsemble.Pretrained, converted from "
                            + "Microsoft.ML.DnnImageFeaturizer.ResNet18)"
                        : $"Backbone: ResNet-18 with seeded random weights (seed {seedValue}; --random-backbone)"
                );
                context.Output.WriteLine($"Tiled ensemble: {tiled.Grid}");
                await context.WithProgressAsync("tiled ensemble", p =>
                    tiled.FitAsync(module, Path.Combine(folder, "tiled"), p, cancellationToken)
                );
                var tiledPictures = Path.Combine(folder, "tiled", "images");
                var tiledResult = await context.WithProgressAsync("evaluating", p =>
                    tiled.EvaluateAsync(
                        module.Test,
                        new EvaluationOptions
                        {
                            VisualizationDirectory = tiledPictures,
                            ReportDirectory = Path.Combine(folder, "tiled"),
                        },
                        p,
                        cancellationToken
                    )
                );

                using var single = TiledEnsembleBuilder
                    .Create()
                    .WithImageSize(tile)
                    .WithTiling(tileSize: tile, stride: tile)
                    .WithModel(ModelKind.Padim)
                    .WithPretrainedBackbone(pretrained)
                    .WithSeed(seedValue)
                    .WithBatchSizes(8, 8)
                    .WithLogging(context.Loggers)
                    .Build();
                context.Output.WriteLine($"Single model at the tile resolution: image {tile}x{tile}");
                await context.WithProgressAsync("single model", p =>
                    single.FitAsync(module, Path.Combine(folder, "single"), p, cancellationToken)
                );
                var singlePictures = Path.Combine(folder, "single", "images");
                var singleResult = await context.WithProgressAsync("evaluating", p =>
                    single.EvaluateAsync(
                        module.Test,
                        new EvaluationOptions
                        {
                            VisualizationDirectory = singlePictures,
                            ReportDirectory = Path.Combine(folder, "single"),
                        },
                        p,
                        cancellationToken
                    )
                );

                context.Output.WriteLine(
                    $"Pixel metrics at the images' original {side}x{side} resolution; the 'by' rows: image AUROC of "
                        + $"every image-score aggregation from the same predictions (docs/metrics.md)."
                );
                Reports.MetricsTable(
                    context.Console,
                    ($"tiled {side}px, {tiled.Grid.Count} x {tile}px tiles", tiledResult.Metrics),
                    ($"single model {tile}px", singleResult.Metrics)
                );
                Reports.WriteMetrics(Path.Combine(folder, "tiled", "metrics.json"), tiledResult.Metrics);
                Reports.WriteMetrics(Path.Combine(folder, "single", "metrics.json"), singleResult.Metrics);
                context.Output.WriteLine(
                    pretrained
                        ? "Both use the same ImageNet-trained ResNet-18: the comparison is like for like."
                        : "Both use the same seeded random backbone: absolute numbers are far from what pretrained "
                            + "features give; the comparison is like for like."
                );
                context.Output.WriteLine($"Reports: {tiledResult.Report} and {singleResult.Report}");
                context.Output.WriteLine(
                    $"Pictures: {tiledPictures} and {singlePictures} (image | ground truth | heat map over the image "
                        + $"| predicted mask | segmentation, with score and thresholds)"
                );
                context.Output.WriteLine($"Done in {watch.Elapsed.TotalSeconds:F0} s.");
                return CliApp.Ok;
            }
        );
        return command;
    }
}
