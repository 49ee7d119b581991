using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Deployment;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// One deployment in a process of its own, as an inspection application starts it: open a trained run with the
/// TorchSharp predictor, or its export with ONNX Runtime, predict one image file, then predict it again a number of
/// times. Reports the time to the first prediction and the process's peak resident memory.
/// </summary>
internal static class DeployChild
{
    public const string Prefix = "RESULT";

    /// <summary>Arguments: <c>torch RUN IMAGE REPEATS</c> or <c>onnx EXPORT IMAGE REPEATS</c>.</summary>
    public static void Measure(string[] args)
    {
        string side = args[1],
            path = args[2],
            image = args[3];
        int repeats = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
        int threads = Environment.ProcessorCount;
        var watch = Stopwatch.StartNew();
        double first;
        if (side == "torch")
        {
            using var ensemble = Ensemble.Load(path, "cpu");
            ensemble.Predict(image).Dispose();
            first = watch.Elapsed.TotalSeconds;
            for (int r = 0; r < repeats; r++)
            {
                ensemble.Predict(image).Dispose();
            }
        }
        else
        {
            using var deployed = DeployedEnsemble.Load(path, new DeploymentOptions { IntraOpThreads = threads });
            _ = deployed.Predict(image);
            first = watch.Elapsed.TotalSeconds;
            for (int r = 0; r < repeats; r++)
            {
                _ = deployed.Predict(image);
            }
        }

        // Whether libtorch was mapped into the process: the ONNX side must run without it.
        bool libtorch = File.ReadLines("/proc/self/maps").Any(l => l.Contains("libtorch", StringComparison.Ordinal));
        Console.WriteLine(
            FormattableString.Invariant($"{Prefix} {first} {ProcessMemory.Peak() / 1048576.0} {(libtorch ? 1 : 0)}")
        );
    }
}
