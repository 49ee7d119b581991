using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The backbone against ONNX Runtime on the same network: the ImageNet ResNet-18 of
/// Microsoft.ML.DnnImageFeaturizer.ResNet18
/// cut after layer3's last ReLU (dynamic batch and size), run by ONNX Runtime (2 intra-op threads, all graph
/// optimizations) and by the library (its converted weights, layer3 features), alternating passes on the same inputs,
/// on a quiet machine and with a child process keeping one core busy.
/// </summary>
internal static class PeerBenchmark
{
    public static void Run(bool quick)
    {
        using var peer = PeerNetworks.Load();
        var backbone = peer.Backbone;
        int threads = get_num_threads();
        using var session = peer.Session("layer3");
        var inputName = session.InputMetadata.Keys.Single();
        var outputName = session.OutputMetadata.Keys.Single();

        Console.WriteLine(
            $"## Backbone against ONNX Runtime {OrtEnv.Instance().GetVersionString()} (ResNet-18 to layer3, ImageNet "
                + $"weights of Microsoft.ML.DnnImageFeaturizer.ResNet18, {threads} threads each; mmap threshold set by "
                + $"the library: {TiledEnsemble.Hosting.NativeAllocator.AppliedThresholdBytes >> 20} MiB)"
        );
        Console.WriteLine(
            "| input | load | TiledEnsemble images/s | ONNX Runtime images/s | ratio (median of paired passes, "
                + "range) | page faults per image: TiledEnsemble / ONNX Runtime |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        // Worker rows run both sides on a thread other than the process's first one, as evaluation and most
        // applications do: glibc gives such threads arenas of 64 MiB heaps, where larger blocks are always mapped
        // afresh.
        var cases = quick
            ? new[] { (2, 64, "2×64²", false), (2, 64, "2×64² on a worker thread", true) }
            : new[]
            {
                (4, 256, "4×256²", false),
                (16, 256, "16×256²", false),
                (64, 128, "64 tiles of 128² (one 1024² image)", false),
                (16, 256, "16×256² on a worker thread", true),
                (64, 128, "64 tiles of 128² on a worker thread", true),
            };
        foreach (var load in new[] { false, true })
        {
            using var busy = load
                ? Process.Start(new ProcessStartInfo("sh", "-c \"while :; do :; done\"") { UseShellExecute = false })
                : null;
            foreach (var (batch, size, label, worker) in cases)
            {
                using var scope = NewDisposeScope();
                using var generator = new Generator(3);
                var input = randn(new long[] { batch, 3, size, size }, generator: generator);
                var values = input.data<float>().ToArray();
                var dense = new DenseTensor(values, new[] { batch, 3, size, size });

                peer.EnsureEqual(session, input, dense, "layer3", label);

                int repeats = quick ? 1 : Math.Max(1, 64 / batch);
                // Page faults of the timed passes only (PairedPasses runs one warm-up pass of each first): the steady
                // state.
                long libraryFaults = 0,
                    onnxFaults = 0,
                    libraryImages = 0,
                    onnxImages = 0,
                    libraryCalls = 0,
                    onnxCalls = 0;
                double Library()
                {
                    long faults = ProcessMemory.MinorFaults();
                    var watch = Stopwatch.StartNew();
                    for (int r = 0; r < repeats; r++)
                    {
                        using var s = NewDisposeScope();
                        using var mode = inference_mode();
                        backbone.Features(input, new[] { "layer3" });
                    }

                    double rate = batch * repeats / watch.Elapsed.TotalSeconds;
                    if (libraryCalls++ > 0)
                    {
                        libraryFaults += ProcessMemory.MinorFaults() - faults;
                        libraryImages += batch * repeats;
                    }

                    return rate;
                }

                double Onnx()
                {
                    long faults = ProcessMemory.MinorFaults();
                    var watch = Stopwatch.StartNew();
                    for (int r = 0; r < repeats; r++)
                    {
                        using var result = session.Run(
                            new[] { NamedOnnxValue.CreateFromTensor(inputName, dense) },
                            new[] { outputName }
                        );
                    }

                    double rate = batch * repeats / watch.Elapsed.TotalSeconds;
                    if (onnxCalls++ > 0)
                    {
                        onnxFaults += ProcessMemory.MinorFaults() - faults;
                        onnxImages += batch * repeats;
                    }

                    return rate;
                }

                var measured = OnThread(worker, () => PairedPasses.Measure(quick ? 2 : 8, Library, Onnx));
                Console.WriteLine(
                    (
                        $"| {label} | {(load ? "one core busy" : "quiet")} | {measured.Model:F1} | "
                        + $"{measured.Bound:F1} | {measured.Ratio:F2} "
                        + $"({measured.MinRatio:F2}–{measured.MaxRatio:F2}) | "
                        + $"{(double)libraryFaults / Math.Max(1, libraryImages):F0} / "
                        + $"{(double)onnxFaults / Math.Max(1, onnxImages):F0} |"
                    )
                );
            }

            if (busy is not null)
            {
                busy.Kill(entireProcessTree: true);
                busy.WaitForExit();
            }
        }

        Console.WriteLine();
    }

    private static T OnThread<T>(bool worker, Func<T> measure)
    {
        if (!worker)
        {
            return measure();
        }

        T result = default!;
        Exception? failure = null;
        var thread = new System.Threading.Thread(() =>
        {
            try
            {
                result = measure();
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null
            ? result
            : throw new InvalidOperationException("The measurement on the worker thread failed.", failure);
    }
}
