using System;
using System.Diagnostics;
using System.IO;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TiledEnsemble.Deployment;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Where the time of <see cref="DeployedEnsemble.Predict(string)"/> goes, on the demo's export (Padim, 3×3 tiles over
/// 256²): decoding the file, the work around the graph (resizing, copies, restoring the map and mask, boxes) and the
/// graph itself, timed as <c>Run</c> of a session opened with the same options on the same model and an input of the
/// same shape. Each part is timed in blocks of ten calls after one untimed, blocks interleaved over rounds:
/// alternating single calls between two sessions, each with 366 MiB of weights, would time their cache misses.
/// </summary>
internal static class DeployBreakdown
{
    private const int Block = 10;

    public static void Run(bool quick)
    {
        var root = Path.Combine(Path.GetTempPath(), $"deploy-breakdown-{Guid.NewGuid():N}");
        try
        {
            var run = Path.Combine(root, "demo");
            var export = Path.Combine(root, "export");
            CliCommandChild.PeakOf("demo", "--output", run, "--image-size", quick ? "64" : "256");
            CliCommandChild.PeakOf("export", "--root", Path.Combine(run, "tiled"), "--output", export);
            var file = Path.Combine(run, "data", "fabric", "test", "spot", "000.png");
            int threads = Environment.ProcessorCount;
            using var deployed = DeployedEnsemble.Load(export, new DeploymentOptions { IntraOpThreads = threads });
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                IntraOpNumThreads = threads,
            };
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "1");
            using var session = new InferenceSession(Path.Combine(export, "model.onnx"), options);
            var image = DeployedImage.FromFile(file);
            var input = new DenseTensor<float>(image.Pixels, new[] { 1, 3, image.Height, image.Width });

            int rounds = quick ? 1 : 6;
            double path = 0,
                decode = 0,
                fromImage = 0,
                graph = 0;
            for (int round = -1; round < rounds; round++)
            {
                double p = PerCall(() => deployed.Predict(file));
                double d = PerCall(() => DeployedImage.FromFile(file));
                double i = PerCall(() => deployed.Predict(image));
                double g = PerCall(() =>
                {
                    using var outputs = session.Run(new[] { NamedOnnxValue.CreateFromTensor("image", input) });
                });
                if (round >= 0)
                {
                    (path, decode, fromImage, graph) = (path + p, decode + d, fromImage + i, graph + g);
                }
            }

            (path, decode, fromImage, graph) = (path / rounds, decode / rounds, fromImage / rounds, graph / rounds);
            Console.WriteLine(
                $"## Where `DeployedEnsemble.Predict(file)` spends its time ({image.Height}², demo export, "
                    + $"{rounds} rounds of blocks of {Block})"
            );
            Console.WriteLine("| part | ms per image | share of Predict(file) |");
            Console.WriteLine("| --- | --- | --- |");
            void Row(string part, double ms) => Console.WriteLine($"| {part} | {ms:F2} | {ms / path:F3} |");
            Row("Predict(file)", path);
            Row("the graph (session.Run, same options and input shape)", graph);
            Row("around the graph (Predict(image) − the graph)", fromImage - graph);
            Row("decoding the file (DeployedImage.FromFile)", decode);
            Row("the rest (Predict(file) − decoding − Predict(image))", path - decode - fromImage);
            Console.WriteLine();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Milliseconds per call over a block, after one call untimed (the first call of a block finds the
    /// other session's weights in the caches).</summary>
    private static double PerCall(Action call)
    {
        call();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Block; i++)
        {
            call();
        }

        return watch.Elapsed.TotalMilliseconds / Block;
    }
}
