using System.CommandLine;
using System.IO;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Evaluation;

namespace TiledEnsemble.Cli.Commands;

/// <summary><c>train --config ens_config.yaml [--no-test] [--run-dir DIR]</c>.</summary>
internal static class TrainCommand
{
    public static Command Create(CommandContext context)
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "The YAML configuration.", Required = true };
        var noTest = new Option<bool>("--no-test") { Description = "Do not evaluate on the test split after training." };
        var runDir = new Option<DirectoryInfo?>("--run-dir") { Description = "Train into (or resume) this run directory instead of a new runN." };
        var allowChanged = new Option<bool>("--allow-changed-data") { Description = "Resume although the training or validation files changed since the run started." };
        var command = new Command("train", "Train a tiled ensemble; writes results/<model>/<dataset>/<category>/runN.") { config, noTest, runDir, allowChanged };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = RunConfig.Load(parse.GetValue(config)!.FullName);
            var loggers = context.Loggers;
            var data = settings.CreateDataModule(loggers.CreateLogger("data"));
            var run = parse.GetValue(runDir)?.FullName ?? RunDirectories.Next(settings.DefaultRootDir, settings.Options.Model.ToString(), data.Name, data.Category);
            using var ensemble = TiledEnsembleBuilder.Create().WithOptions(settings.Options).WithLogging(loggers).Build();
            context.Output.WriteLine($"Training {ensemble.Grid} -> {run}");
            if (File.Exists(run))
            {
                throw new ConfigException($"--run-dir '{run}' is a file; give a folder (new, or a run to resume).");
            }

            var fitOptions = new FitOptions { AllowChangedData = parse.GetValue(allowChanged) };
            var fit = await context.WithProgressAsync("training", p => ensemble.FitAsync(data, run, fitOptions, p, cancellationToken));
            context.Output.WriteLine($"Trained {fit.PositionsTrained} position(s) ({fit.PositionsResumed} resumed) in {fit.Duration.TotalSeconds:F1} s. Run: {run}");
            if (!parse.GetValue(noTest))
            {
                var evaluation = await context.WithProgressAsync("evaluating", p => ensemble.EvaluateAsync(data.Test, new EvaluationOptions { VisualizationDirectory = Path.Combine(run, "images"), ReportDirectory = run }, p, cancellationToken));
                Reports.MetricsTable(context.Console, ("test", evaluation.Metrics));
                Reports.WriteMetrics(Path.Combine(run, "metrics.json"), evaluation.Metrics);
                Reports.WriteImageResults(Path.Combine(run, "predictions.csv"), evaluation.Images);
                context.Output.WriteLine($"Metrics: {Path.Combine(run, "metrics.json")}; report: {evaluation.Report}; pictures: {Path.Combine(run, "images")}");
            }

            return CliApp.Ok;
        });
        return command;
    }
}
