using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Data.Imaging;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Commands;

/// <summary>
/// <c>predict --root RUN --input FILE|FOLDER --output FOLDER</c>: per image the map as <c>NAME.npy</c> and a heat map
/// <c>NAME_heatmap.png</c> (NAME is the file name with its extension, so x.png and x.PNG never share outputs), one
/// predictions.csv. Every file is written beside its destination and renamed over it.
/// </summary>
internal static class PredictCommand
{
    private static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff" };

    public static Command Create(CommandContext context)
    {
        var root = new Option<DirectoryInfo>("--root", "-r")
        {
            Description =
                "The trained run directory, or an exported one (tiled-ensemble export: ONNX Runtime predicts).",
            Required = true,
        };
        var input = new Option<string>("--input", "-i")
        {
            Description = "An image file or a folder of images.",
            Required = true,
        };
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Where to write maps, heat maps and predictions.csv.",
            Required = true,
        };
        var skipBad = new Option<bool>("--skip-bad-files")
        {
            Description =
                "Skip unreadable or oversize images (listed in predictions.csv with the reason) instead of stopping.",
        };
        var command = new Command("predict", "Predict images with a trained run.") { root, input, output, skipBad };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var run = RunDirectoryOption.Require(parse.GetValue(root)!.FullName, "--root");
                var source = parse.GetValue(input)!;
                var files =
                    Directory.Exists(source)
                        ? Directory
                            .EnumerateFiles(source)
                            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                            .OrderBy(f => f, System.StringComparer.Ordinal)
                            .ToList()
                    : File.Exists(source) ? new List<string> { source }
                    : throw new ConfigException($"--input '{source}' is neither an image file nor a folder.");
                if (files.Count == 0)
                {
                    throw new ConfigException($"--input '{source}' holds no images ({string.Join(", ", Extensions)}).");
                }

                using var ensemble = ImagePredictors.Open(run, context);
                int maxSide = ensemble.MaxInputSide;

                // Headers first (no decoding): an unreadable or oversize file stops the command before anything is
                // written, unless it is to be skipped.
                var rejected = new Dictionary<string, string>();
                foreach (var file in files)
                {
                    try
                    {
                        ImageIO.CheckHeader(file, maxSide, ensemble.MaxInputPixels);
                    }
                    catch (ImageDecodeException exception) when (parse.GetValue(skipBad))
                    {
                        rejected[file] = exception.Reason;
                    }
                }

                var target = parse.GetValue(output)!.FullName;

                // Outputs beside the run would replace training's predictions.csv; beside the inputs, a rerun would
                // score its own heat maps.
                if (FolderPaths.IsSameOrInside(target, run))
                {
                    throw new ConfigException($"--output '{target}' is the run folder or inside it; choose another.");
                }

                if (Directory.Exists(source) && FolderPaths.IsSameOrInside(target, source))
                {
                    throw new ConfigException(
                        $"--output '{target}' is the --input folder or inside it; the next run would predict its own "
                            + "heat maps. Choose another."
                    );
                }

                Directory.CreateDirectory(target);
                AtomicFile.SweepAbandoned(target, recursive: true);
                var csv = new StringBuilder("path,raw_score,normalized_score,label,status\n");
                int skipped = 0;
                int done = 0;
                try
                {
                    await context
                        .WithProgressAsync("predicting", progress =>
                        {
                            foreach (var file in files)
                            {
                                cancellationToken.ThrowIfCancellationRequested();
                                PredictOrSkip(file);
                                progress.Report(
                                    new EnsembleProgress(
                                        EnsembleStage.Predicting,
                                        ++done,
                                        files.Count,
                                        Path.GetFileName(file)
                                    )
                                );
                            }

                            return Task.FromResult(done);
                        })
                        .ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    AtomicFile.WriteAllText(Path.Combine(target, "predictions.csv"), csv.ToString());
                    throw;
                }

                void PredictOrSkip(string file)
                {
                    if (!rejected.TryGetValue(file, out var reason))
                    {
                        try
                        {
                            var result = PredictOneRecorded(file);
                            csv.Append(
                                CultureInfo.InvariantCulture,
                                $"{Reports.Quote(file)},{result.RawScore:R},{result.Score:R},"
                                    + $"{(result.Label ? 1 : 0)},ok\n"
                            );
                            return;
                        }
                        catch (ImageDecodeException exception) when (parse.GetValue(skipBad))
                        {
                            reason = exception.Reason;
                        }
                    }

                    skipped++;
                    context.Error.WriteLine($"Skipped '{file}': {reason}");
                    csv.Append(
                        CultureInfo.InvariantCulture,
                        $"{Reports.Quote(file)},,,,{Reports.Quote("skipped: " + reason)}\n"
                    );
                }

                // A file that fails past its header (a truncated image) or an interruption stops the command; the
                // outputs already written keep their rows, and the file that stopped it gets one saying why.
                ImagePredictionResult PredictOneRecorded(string file)
                {
                    try
                    {
                        return PredictOne(ensemble, file, target);
                    }
                    catch (Exception exception) when (!(exception is ImageDecodeException && parse.GetValue(skipBad)))
                    {
                        var status =
                            exception is OperationCanceledException ? "interrupted" : "failed: " + exception.Message;
                        csv.Append(CultureInfo.InvariantCulture, $"{Reports.Quote(file)},,,,{Reports.Quote(status)}\n");
                        AtomicFile.WriteAllText(Path.Combine(target, "predictions.csv"), csv.ToString());
                        throw;
                    }
                }

                AtomicFile.WriteAllText(Path.Combine(target, "predictions.csv"), csv.ToString());
                context.Output.WriteLine(
                    $"Predicted {files.Count - skipped} "
                        + $"image(s){(skipped > 0 ? $", skipped {skipped}" : string.Empty)}; results in {target}"
                );
                return CliApp.Ok;
            }
        );
        return command;
    }

    private static ImagePredictionResult PredictOne(IImagePredictor ensemble, string file, string target)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var (image, prediction) = ensemble.Predict(file);
        using var disposePrediction = prediction;
        var name = Path.GetFileName(file);
        NpyWriter.Write(
            Path.Combine(target, name + ".npy"),
            prediction.AnomalyMap[0].to_type(ScalarType.Float32).contiguous()
        );
        ensemble.SavePicture(Path.Combine(target, name + "_heatmap.png"), image, prediction, name);
        return new ImagePredictionResult(prediction.Score, prediction.RawScore, prediction.Label);
    }

    private sealed record ImagePredictionResult(double Score, double RawScore, bool Label);
}
