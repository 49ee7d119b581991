using System.CommandLine;
using System.IO;
using System.Threading.Tasks;
using TiledEnsemble.Export;

namespace TiledEnsemble.Cli.Commands;

/// <summary><c>export --root RUN --output DIR</c>: the trained run as an ONNX graph with its manifest
/// (docs/deploy.md).</summary>
internal static class ExportCommand
{
    public static Command Create(CommandContext context)
    {
        var root = new Option<DirectoryInfo>("--root", "-r")
        {
            Description = "The trained run directory.",
            Required = true,
        };
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "A new or empty folder for model.onnx and manifest.json.",
            Required = true,
        };
        var externalAbove = new Option<long?>("--external-data-above")
        {
            Description =
                "Put the weights in model.onnx.data when they pass this many bytes (default 1.5 GiB; 0: always).",
        };
        var command = new Command(
            "export",
            "Export a trained run to ONNX, to predict it with ONNX Runtime (TiledEnsemble.OnnxRuntime) or any ONNX "
                + "runtime."
        )
        {
            root,
            output,
            externalAbove,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var run = RunDirectoryOption.Require(parse.GetValue(root)!.FullName, "--root");
                var target = parse.GetValue(output)!.FullName;
                if (
                    Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar)
                    == Path.GetFullPath(run).TrimEnd(Path.DirectorySeparatorChar)
                )
                {
                    throw new Config.ConfigException(
                        "--output must be another folder than --root: the run is left as it is."
                    );
                }

                var options = new ExportOptions();
                if (parse.GetValue(externalAbove) is { } above)
                {
                    options = options with { ExternalDataAboveBytes = above };
                }

                var result = await context.WithProgressAsync("exporting", p =>
                    Task.Run(() => EnsembleExporter.Export(run, target, options, p), cancellationToken)
                );
                long mebibytes = result.ModelBytes / (1 << 20);
                var external =
                    result.ExternalDataBytes > 0
                        ? $" and {result.ExternalDataBytes / (1 << 20)} MiB of external data"
                        : string.Empty;
                var model = Path.Combine(target, EnsembleExporter.ModelFile);
                context.Output.WriteLine(
                    $"Exported {result.Positions} positions to {model} ({mebibytes} MiB{external}) in "
                        + $"{result.Duration.TotalSeconds:F1} s."
                );
                return CliApp.Ok;
            }
        );
        return command;
    }
}
