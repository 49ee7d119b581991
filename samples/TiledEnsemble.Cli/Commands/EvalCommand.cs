using System.CommandLine;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Deployment;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Export;

namespace TiledEnsemble.Cli.Commands;

/// <summary><c>eval --config ens_config.yaml --root results/.../runN</c>.</summary>
internal static class EvalCommand
{
    public static Command Create(CommandContext context)
    {
        var config = new Option<FileInfo>("--config", "-c")
        {
            Description = "The YAML configuration (for the data).",
            Required = true,
        };
        var root = new Option<DirectoryInfo>("--root", "-r")
        {
            Description = "The trained run directory.",
            Required = true,
        };
        var onlyWrong = new Option<bool>("--plot-only-wrong")
        {
            Description = "Draw pictures only for wrongly classified images.",
        };
        var raw = new Option<bool>("--raw-outputs")
        {
            Description = "Also write heat maps and masks as separate PNGs.",
        };
        var recompute = new Option<bool>("--recompute-thresholds")
        {
            Description =
                "With an export as --root: F1-best image and pixel thresholds on the evaluated images instead of the "
                + "training ones.",
        };
        var command = new Command(
            "eval",
            "Evaluate a trained run on the test split: metrics table, metrics.json, pictures, predictions.csv."
        )
        {
            config,
            root,
            onlyWrong,
            raw,
            recompute,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var settings = RunConfig.Load(parse.GetValue(config)!.FullName);
                var run = RunDirectoryOption.Require(parse.GetValue(root)!.FullName, "--root");
                if (File.Exists(Path.Combine(run, EnsembleExporter.ModelFile)))
                {
                    return await EvaluateExport(run, settings, parse.GetValue(recompute), cancellationToken);
                }

                if (parse.GetValue(recompute))
                {
                    throw new ConfigException(
                        "--recompute-thresholds applies to an exported ensemble (--root EXPORT); a run's thresholds "
                            + "come from its validation split (val_split_mode)."
                    );
                }

                using var ensemble = Ensemble.Load(run, loggers: context.Loggers);
                var trained = ensemble.Settings;
                var configured = settings.Options;
                if (
                    (
                        configured.ImageHeight,
                        configured.ImageWidth,
                        configured.TileHeight,
                        configured.TileWidth,
                        configured.StrideHeight,
                        configured.StrideWidth
                    )
                    != (
                        trained.ImageSize.Height,
                        trained.ImageSize.Width,
                        trained.TileSize.Height,
                        trained.TileSize.Width,
                        trained.Stride.Height,
                        trained.Stride.Width
                    )
                )
                {
                    context.Error.WriteLine(
                        $"Warning: the config's tiling (image {configured.ImageHeight}x{configured.ImageWidth}, "
                            + $"tiles {configured.TileHeight}x{configured.TileWidth}, stride "
                            + $"{configured.StrideHeight}x{configured.StrideWidth}) differs from the run's "
                            + $"({trained.ImageSize}, tiles {trained.TileSize}, stride {trained.Stride}); the "
                            + $"run's is used: the config only supplies the data."
                    );
                }

                var data = settings.CreateDataModule(context.Loggers.CreateLogger("data"));
                var output = Path.Combine(run, "evaluation");
                var options = new EvaluationOptions
                {
                    VisualizationDirectory = Path.Combine(output, "images"),
                    ReportDirectory = output,
                    PlotOnlyWrong = parse.GetValue(onlyWrong),
                    RawOutputs = parse.GetValue(raw),
                    Resolution = settings.MetricsResolution,
                };
                AtomicFile.SweepAbandoned(output, recursive: true);
                var evaluation = await context.WithProgressAsync("evaluating", p =>
                    ensemble.EvaluateAsync(data.Test, options, p, cancellationToken)
                );
                Reports.MetricsTable(context.Console, ("test", evaluation.Metrics));
                Directory.CreateDirectory(output);
                Reports.WriteMetrics(Path.Combine(output, "metrics.json"), evaluation.Metrics);
                Reports.WriteImageResults(Path.Combine(output, "predictions.csv"), evaluation.Images);
                context.Output.WriteLine($"Written to {output} (report: {evaluation.Report})");
                return CliApp.Ok;
            }
        );
        return command;

        async Task<int> EvaluateExport(string export, RunConfig settings, bool recomputed, CancellationToken token)
        {
            using var deployed = DeployedEnsemble.Load(export);
            var data = settings.CreateDataModule(context.Loggers.CreateLogger("data"));
            var output = Path.Combine(export, "evaluation");
            if (new DirectoryInfo(output).LinkTarget is not null)
            {
                throw new ConfigException($"'{output}' is a symbolic link; evaluation writes only inside the export.");
            }

            AtomicFile.SweepAbandoned(output, recursive: true);
            var (metrics, images, thresholds) = await context.WithProgressAsync("evaluating", p =>
                Task.Run(() => ExportEvaluation.Run(deployed, data.Test, recomputed, p, token), token)
            );
            Reports.MetricsTable(context.Console, ("test", metrics));
            Directory.CreateDirectory(output);
            Reports.WriteMetrics(Path.Combine(output, "metrics.json"), metrics);
            Reports.WriteImageResults(Path.Combine(output, "predictions.csv"), images);
            context.Output.WriteLine($"Evaluated the export with ONNX Runtime, {thresholds}; written to {output}");
            return CliApp.Ok;
        }
    }
}
