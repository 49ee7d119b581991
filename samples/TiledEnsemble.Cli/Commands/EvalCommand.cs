using System.CommandLine;
using System.IO;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Evaluation;

namespace TiledEnsemble.Cli.Commands;

/// <summary><c>eval --config ens_config.yaml --root results/.../runN</c>.</summary>
internal static class EvalCommand
{
    public static Command Create(CommandContext context)
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "The YAML configuration (for the data).", Required = true };
        var root = new Option<DirectoryInfo>("--root", "-r") { Description = "The trained run directory.", Required = true };
        var onlyWrong = new Option<bool>("--plot-only-wrong") { Description = "Draw pictures only for wrongly classified images." };
        var raw = new Option<bool>("--raw-outputs") { Description = "Also write heat maps and masks as separate PNGs." };
        var command = new Command("eval", "Evaluate a trained run on the test split: metrics table, metrics.json, pictures, predictions.csv.") { config, root, onlyWrong, raw };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = RunConfig.Load(parse.GetValue(config)!.FullName);
            var run = parse.GetValue(root)!.FullName;
            if (!Directory.Exists(run))
            {
                throw new ConfigException($"--root '{run}' does not exist.");
            }

            using var ensemble = Ensemble.Load(run, loggers: context.Loggers);
            var data = settings.CreateDataModule(context.Loggers.CreateLogger("data"));
            var output = Path.Combine(run, "evaluation");
            var options = new EvaluationOptions { VisualizationDirectory = Path.Combine(output, "images"), PlotOnlyWrong = parse.GetValue(onlyWrong), RawOutputs = parse.GetValue(raw) };
            var evaluation = await context.WithProgressAsync("evaluating", p => ensemble.EvaluateAsync(data.Test, options, p, cancellationToken));
            Reports.MetricsTable(context.Console, ("test", evaluation.Metrics));
            Directory.CreateDirectory(output);
            Reports.WriteMetrics(Path.Combine(output, "metrics.json"), evaluation.Metrics);
            Reports.WriteImageResults(Path.Combine(output, "predictions.csv"), evaluation.Images);
            context.Output.WriteLine($"Written to {output}");
            return CliApp.Ok;
        });
        return command;
    }
}
