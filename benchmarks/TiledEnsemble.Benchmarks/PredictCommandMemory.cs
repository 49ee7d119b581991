using System;
using System.Diagnostics;
using System.IO;
using TiledEnsemble.Data.Imaging;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Peak memory of <c>tiled-ensemble predict</c> on one image as its size grows to the default limit (8192², the most
/// pixels read without raising <c>max_image_pixels</c>), with a run (TorchSharp) and with its export (ONNX Runtime).
/// The run is the demo's (Padim, ImageNet ResNet-18, 2×2 tiles at image size 64); the images are its defective test
/// image enlarged. Each prediction runs in a child process of its own, which reports its peak resident set. The peak
/// above the smallest image, divided by the pixels added, is what one more pixel costs.
/// </summary>
internal static class PredictCommandMemory
{
    public static void Run(bool quick)
    {
        var root = Path.Combine(Path.GetTempPath(), $"predict-memory-{Guid.NewGuid():N}");
        try
        {
            var run = Path.Combine(root, "demo");
            var export = Path.Combine(root, "export");
            CliCommandChild.PeakOf("demo", "--output", run, "--image-size", "64");
            CliCommandChild.PeakOf("export", "--root", Path.Combine(run, "tiled"), "--output", export);
            int[] sides = quick ? new[] { 256, 1024 } : new[] { 1024, 2048, 4096, 8192 };
            var images = WriteImages(Path.Combine(run, "data", "fabric", "test", "spot", "000.png"), root, sides);

            Console.WriteLine("## Memory of `predict` on one image, by its size (demo run: Padim, ImageNet ResNet-18)");
            Console.WriteLine(
                "| image | peak RSS, run (TorchSharp) | peak RSS, export (ONNX Runtime) | export / run | seconds |"
            );
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            var first = (Run: 0L, Export: 0L);
            var last = (Run: 0L, Export: 0L);
            for (int i = 0; i < sides.Length; i++)
            {
                var watch = Stopwatch.StartNew();
                long byRun = Predict(Path.Combine(run, "tiled"), images[i], Path.Combine(root, $"run-{i}"));
                long byExport = Predict(export, images[i], Path.Combine(root, $"export-{i}"));
                if (i == 0)
                {
                    first = (byRun, byExport);
                }

                last = (byRun, byExport);

                Console.WriteLine(
                    $"| {sides[i]}² | {byRun >> 20} MiB | {byExport >> 20} MiB | {(double)byExport / byRun:F2} | "
                        + $"{watch.Elapsed.TotalSeconds:F0} |"
                );
            }

            double added = (double)sides[^1] * sides[^1] - (double)sides[0] * sides[0];
            Console.WriteLine(
                $"Each pixel above {sides[0]}² costs {(last.Run - first.Run) / added:F1} bytes with the run and "
                    + $"{(last.Export - first.Export) / added:F1} bytes with the export."
            );
            Console.WriteLine();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static long Predict(string runOrExport, string image, string output) =>
        CliCommandChild.PeakOf("predict", "--root", runOrExport, "--input", image, "--output", output);

    /// <summary>The demo's test image enlarged (antialiased bilinear) to each side, written as PNG.</summary>
    private static string[] WriteImages(string source, string root, int[] sides)
    {
        var paths = new string[sides.Length];
        using var scope = NewDisposeScope();
        var image = ImageIO.ReadImage(source);
        for (int i = 0; i < sides.Length; i++)
        {
            paths[i] = Path.Combine(root, $"image-{sides[i]}.png");
            using var enlarged = ImageIO.Resize(image, sides[i]);
            ImageIO.WriteImage(paths[i], enlarged);
        }

        return paths;
    }
}
