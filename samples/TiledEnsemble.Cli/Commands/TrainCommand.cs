using System.CommandLine;
using System.IO;
using System.Linq;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Evaluation;

namespace TiledEnsemble.Cli.Commands;

/// <summary><c>train --config ens_config.yaml [--no-test] [--run-dir DIR]</c>.</summary>
internal static class TrainCommand
{
    public static Command Create(CommandContext context)
    {
        var config = new Option<FileInfo>("--config", "-c")
        {
            Description = "The YAML configuration.",
            Required = true,
        };
        var noTest = new Option<bool>("--no-test")
        {
            Description = "Do not evaluate on the test split after training.",
        };
        var runDir = new Option<DirectoryInfo?>("--run-dir")
        {
            Description = "Train into (or resume) this run directory instead of a new runN.",
        };
        var allowChanged = new Option<bool>("--allow-changed-data")
        {
            Description = "Resume although the training or validation files changed since the run started.",
        };
        var shard = new Option<string?>("--shard")
        {
            Description =
                "Train only shard K of N of the positions into --run-dir (K/N, or N with JOB_COMPLETION_INDEX or "
                + "SLURM_ARRAY_TASK_ID); finish with --finalize.",
        };
        var finalize = new Option<bool>("--finalize")
        {
            Description =
                "Join the shards trained into --run-dir: check every position, compute the statistics, mark the run "
                + "complete.",
        };
        var threads = new Option<int?>("--threads")
        {
            Description = "libtorch threads of this process (default: one per core).",
        };
        var command = new Command("train", "Train a tiled ensemble; writes results/<model>/<dataset>/<category>/runN.")
        {
            config,
            noTest,
            runDir,
            allowChanged,
            shard,
            finalize,
            threads,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var settings = RunConfig.Load(parse.GetValue(config)!.FullName);
                if (parse.GetValue(threads) is { } count)
                {
                    if (count < 1)
                    {
                        throw new ConfigException($"--threads must be at least 1; got {count}.");
                    }

                    TorchSharp.torch.set_num_threads(count);
                }

                var shardText = parse.GetValue(shard);
                bool finalizing = parse.GetValue(finalize);
                if ((shardText is not null || finalizing) && parse.GetValue(runDir) is null)
                {
                    throw new ConfigException(
                        "--shard and --finalize need --run-dir: every worker and the final step name the same shared "
                            + "run folder."
                    );
                }

                if (shardText is not null && finalizing)
                {
                    throw new ConfigException(
                        "--shard and --finalize are separate steps: run every shard, then --finalize once."
                    );
                }

                var loggers = context.Loggers;
                var data = settings.CreateDataModule(loggers.CreateLogger("data"));
                var run = parse.GetValue(runDir)?.FullName
                    ?? RunDirectories.Next(
                        settings.DefaultRootDir,
                        settings.Options.Model.ToString(),
                        data.Name,
                        data.Category
                    );
                using var ensemble = TiledEnsembleBuilder
                    .Create()
                    .WithOptions(settings.Options)
                    .WithLogging(loggers)
                    .Build();
                context.Output.WriteLine($"Training {ensemble.Grid} -> {run}");
                if (File.Exists(run))
                {
                    throw new ConfigException($"--run-dir '{run}' is a file; give a folder (new, or a run to resume).");
                }

                var fitOptions = new FitOptions { AllowChangedData = parse.GetValue(allowChanged) };
                if (shardText is not null)
                {
                    var (index, total) = ShardOption.Parse(shardText, System.Environment.GetEnvironmentVariable);
                    var result = await context.WithProgressAsync($"shard {index}/{total}", p =>
                        ensemble.TrainShardAsync(data, run, index, total, fitOptions, p, cancellationToken)
                    );
                    context.Output.WriteLine(
                        $"Shard {index} of {total}: trained {result.PositionsTrained} of its {result.Positions} "
                            + $"position(s) ({result.PositionsResumed} already done) in "
                            + $"{result.Duration.TotalSeconds:F1} s. When every shard is done: train --config … "
                            + $"--run-dir {run} --finalize"
                    );
                    return CliApp.Ok;
                }

                var fit = finalizing
                    ? await context.WithProgressAsync("finalizing", p =>
                        ensemble.FinalizeAsync(data, run, p, cancellationToken)
                    )
                    : await context.WithProgressAsync("training", p =>
                        ensemble.FitAsync(data, run, fitOptions, p, cancellationToken)
                    );
                context.Output.WriteLine(
                    $"Trained {fit.PositionsTrained} position(s) ({fit.PositionsResumed} resumed) in "
                        + $"{fit.Duration.TotalSeconds:F1} s. Run: {run}"
                );
                if (!parse.GetValue(noTest))
                {
                    var evaluation = await context.WithProgressAsync("evaluating", p => ensemble.EvaluateAsync(
                            data.Test,
                            new EvaluationOptions
                            {
                                VisualizationDirectory = Path.Combine(run, "images"),
                                ReportDirectory = run,
                                Resolution = settings.MetricsResolution,
                            },
                            p,
                            cancellationToken
                        ));
                    Reports.MetricsTable(context.Console, ("test", evaluation.Metrics));
                    Reports.WriteMetrics(Path.Combine(run, "metrics.json"), evaluation.Metrics);
                    Reports.WriteImageResults(Path.Combine(run, "predictions.csv"), evaluation.Images);
                    context.Output.WriteLine(
                        $"Metrics: {Path.Combine(run, "metrics.json")}; report: {evaluation.Report}; pictures: "
                            + $"{Path.Combine(run, "images")}"
                    );
                }

                if (settings.ExportTypes.Contains("onnx"))
                {
                    // As quadra's export section: the trained run, ready to deploy, beside its files.
                    var export = Path.Combine(run, "export");
                    var exported = await context.WithProgressAsync("exporting", p =>
                        System.Threading.Tasks.Task.Run(() =>
                            Export.EnsembleExporter.Export(ensemble.Predictor!, export, null, p)
                        )
                    );
                    context.Output.WriteLine(
                        $"Exported to {Path.Combine(export, Export.EnsembleExporter.ModelFile)} "
                            + $"({exported.ModelBytes / (1 << 20)} MiB) for ONNX Runtime (docs/deploy.md)."
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }
}
