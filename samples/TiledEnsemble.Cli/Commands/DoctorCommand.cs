using System;
using System.CommandLine;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Diagnostics;

namespace TiledEnsemble.Cli.Commands;

/// <summary>
/// <c>doctor</c>: prints what the convolutions depend on (CPU, instruction sets, libraries, threads) and checks every
/// convolution of the backbones against a float64 reference on this machine. Exit 0 when all match, 1 otherwise.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create(CommandContext context)
    {
        var backbone = new Option<string>("--backbone")
        {
            Description = "resnet18, wide_resnet50_2 or all.",
            DefaultValueFactory = _ => "all",
        };
        var tileSizes = new Option<string>("--tile-sizes")
        {
            Description = "Comma-separated tile sizes to feed the backbones.",
            DefaultValueFactory = _ => "32,64,100,128,256",
        };
        var batches = new Option<string>("--batches")
        {
            Description = "Comma-separated batch sizes.",
            DefaultValueFactory = _ => "1,3",
        };
        var device = new Option<string>("--device")
        {
            Description = "cpu, cuda or cuda:N.",
            DefaultValueFactory = _ => "cpu",
        };
        var quick = new Option<bool>("--quick")
        {
            Description =
                "Compare the borders and 256 sampled positions of every output channel instead of every value.",
        };
        var command = new Command("doctor", "Check that this machine computes the backbones' convolutions right.")
        {
            backbone,
            tileSizes,
            batches,
            device,
            quick,
        };
        command.SetAction(
            (parse, cancellationToken) =>
            {
                var kinds = parse.GetValue(backbone) is "all" or null
                    ? new[] { BackboneKind.ResNet18, BackboneKind.WideResNet50 }
                    : new[] { Parse(() => BackboneNames.Parse(parse.GetValue(backbone)!)) };
                var options = new ConvolutionCheckOptions
                {
                    Backbones = kinds,
                    TileSizes = Numbers(parse.GetValue(tileSizes)!, "--tile-sizes", 7, MaxTile),
                    Batches = Numbers(parse.GetValue(batches)!, "--batches", 1, MaxBatch),
                    Device = parse.GetValue(device),
                    AllPositions = !parse.GetValue(quick),
                };
                CheckWork(options.TileSizes.ToArray(), options.Batches.ToArray());

                ConvolutionSelfCheck.EnsureConfigured();
                foreach (var line in RuntimeEnvironment.Current().Describe())
                {
                    context.Output.WriteLine(line);
                }

                context.Output.WriteLine(
                    $"Checking every convolution of {string.Join(" and ", kinds.Select(BackboneNames.Name))} at "
                        + $"tiles {string.Join(", ", options.TileSizes)}, batches "
                        + $"{string.Join(", ", options.Batches)}, channels-last and channels-first, on "
                        + $"{options.Device}, against a float64 "
                        + $"reference{(options.AllPositions ? string.Empty : " (sampled positions)")}:"
                );
                var report = ConvolutionSelfCheck.Run(options, new Progress(context), cancellationToken);
                if (report.Passed)
                {
                    context.Output.WriteLine(
                        $"OK: {report.Checked} convolution runs, every value within rounding of the reference."
                    );
                    return Task.FromResult(CliApp.Ok);
                }

                context.Output.WriteLine(
                    $"WRONG VALUES: {report.Mismatches.Count} of {report.Checked} convolution runs differ from the "
                        + $"reference:"
                );
                foreach (var mismatch in report.Mismatches)
                {
                    context.Output.WriteLine($"  {mismatch}");
                }

                context.Output.WriteLine(
                    $"Anomaly maps computed on this machine would be wrong. Try again with "
                        + $"{ConvolutionSelfCheck.OneDnnVariable}=0 (convolutions without oneDNN; slower) and see "
                        + $"docs/troubleshooting.md."
                );
                return Task.FromResult(CliApp.RuntimeError);
            }
        );
        return command;
    }

    /// <summary>The largest tile side checked: the kernels' code paths are the same beyond it, and the float64
    /// reference of a larger one costs gigabytes.</summary>
    private const int MaxTile = 1024;

    /// <summary>The largest batch checked.</summary>
    private const int MaxBatch = 32;

    /// <summary>The most batch × tile² pixels of one check (4 tiles of 512²): the float64 reference of the stem's
    /// output alone is 128 bytes a pixel.</summary>
    private const long MaxPixelsPerCheck = 4L * 512 * 512;

    /// <summary>Refuses a combination of tile sizes and batches whose reference would not fit in memory.</summary>
    private static void CheckWork(int[] tiles, int[] batches)
    {
        long work = (long)tiles.Max() * tiles.Max() * batches.Max();
        if (work > MaxPixelsPerCheck)
        {
            throw new ConfigException(
                $"--tile-sizes {tiles.Max()} with --batches {batches.Max()} is {work} pixels a check; at most "
                    + $"{MaxPixelsPerCheck} (e.g. tile 512 with batch 4): the float64 reference would not fit in "
                    + $"memory."
            );
        }
    }

    private static int[] Numbers(string text, string option, int minimum, int maximum)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = parts
            .Select(p =>
                int.TryParse(
                    p,
                    System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture,
                    out var v
                )
                    ? v
                    : -1
            )
            .ToArray();
        if (values.Length == 0 || values.Any(v => v < minimum || v > maximum))
        {
            throw new ConfigException(
                $"{option} '{text}' must be a comma-separated list of integers from {minimum} to {maximum}."
            );
        }

        return values;
    }

    private static T Parse<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException exception)
        {
            throw new ConfigException($"--backbone: {exception.Message}");
        }
    }

    private sealed class Progress : IProgress<string>
    {
        private readonly CommandContext _context;

        public Progress(CommandContext context) => _context = context;

        public void Report(string value) => _context.Output.WriteLine($"  {value}");
    }
}
