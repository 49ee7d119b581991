using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Models;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// A trained run against its ONNX export: the TorchSharp predictor and ONNX Runtime predicting the same images in
/// alternating passes (quiet, then with a child process keeping one core busy), ONNX Runtime's whole pipeline against
/// its bare backbone over the same tiles, ONNX Runtime with its threads sleeping instead of spinning while they wait
/// (<see cref="DeploymentOptions.AllowSpinning"/>), and, in processes of their own, the time from opening to the first
/// prediction and the peak memory of each side.
/// </summary>
internal static class DeployBenchmark
{
    private const int Pairs = 5;

    public static void Run(bool quick, string self)
    {
        var cases = quick
            ? new[] { (Image: 64, Tile: 32, Stride: 32, Batch: 2, Label: "64², 2×2 tiles of 32") }
            : new[]
            {
                (256, 128, 64, 8, "256², 3×3 tiles of 128, stride 64 (the demo's grid)"),
                (1024, 128, 128, 2, "1024², 8×8 tiles of 128"),
            };
        int threads = get_num_threads();
        Console.WriteLine(
            $"## Deployment: ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()} against the "
                + $"TorchSharp predictor (Padim, ResNet-18 with seeded random weights, {threads} threads each)"
        );
        Console.WriteLine(
            "| images | export | load to first prediction: TorchSharp / ONNX Runtime | peak memory: TorchSharp / "
                + "ONNX Runtime (libtorch loaded) | load | TorchSharp images/s | ONNX Runtime images/s | ratio ONNX "
                + "Runtime / TorchSharp (range) | ONNX Runtime pipeline / its bare backbone (range) | ONNX Runtime "
                + "without / with spinning threads (range) |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (image, tile, stride, batch, label) in cases)
        {
            var root = Directory.CreateTempSubdirectory("bench-deploy-").FullName;
            try
            {
                Case(self, root, quick, image, tile, stride, batch, label, threads);
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        Console.WriteLine();
    }

    private static void Case(
        string self,
        string root,
        bool quick,
        int image,
        int tile,
        int stride,
        int batch,
        string label,
        int threads
    )
    {
        var data = Path.Combine(root, "data");
        DefectDatasetGenerator.Write(
            data,
            new DefectDatasetOptions
            {
                ImageSize = image,
                TrainCount = quick ? 4 : 8,
                TestGoodCount = batch,
                TestPerDefect = 1,
                Seed = 5,
            }
        );
        var module = AnomalyDataModule.MvtecAD(
            data,
            "fabric",
            new SplitOptions(),
            new LoaderOptions
            {
                ImageSize = image,
                TrainBatchSize = 4,
                EvalBatchSize = 4,
            }
        );
        var run = Path.Combine(root, "run");
        var export = Path.Combine(root, "export");
        using (
            var ensemble = TiledEnsembleBuilder
                .Create()
                .WithImageSize(image)
                .WithTiling(tile, stride)
                .WithModel(ModelKind.Padim, m => m.Backbone = "resnet18")
                .WithPretrainedBackbone(false)
                .WithBatchSizes(4, 4)
                .Build()
        )
        {
            ensemble.FitAsync(module, run).GetAwaiter().GetResult();
        }

        var exported = EnsembleExporter.Export(run, export);
        string exportLabel =
            $"{(exported.ModelBytes + exported.ExternalDataBytes) / 1048576.0:F0} MiB"
            + (exported.ExternalDataBytes > 0 ? " (external data)" : string.Empty)
            + $", {exported.Duration.TotalSeconds:F1} s";

        var files = module.Test.Take(batch).Select(s => s.ImagePath).ToArray();
        int repeats = quick ? 1 : 10;
        var torchChild = Child(self, "torch", run, files[0], repeats);
        var onnxChild = Child(self, "onnx", export, files[0], repeats);

        using var scope = NewDisposeScope();
        using var predictor = Ensemble.Load(run, "cpu");
        using var deployed = DeployedEnsemble.Load(export, new DeploymentOptions { IntraOpThreads = threads });
        using var sleeping = DeployedEnsemble.Load(
            export,
            new DeploymentOptions { IntraOpThreads = threads, AllowSpinning = false }
        );
        using var bare = BareBackbone.Create(run, threads);
        var tensors = stack(files.Select(f => ImageIO.ReadImage(f)).ToArray());
        var images = files.Select(f => DeployedImage.FromFile(f)).ToArray();
        var tiles = bare.Tiles(batch);
        double TorchPass() => Timing.ImagesPerSecond(batch, () => DisposeAll(predictor.Predict(tensors)));
        double OnnxPass() => Timing.ImagesPerSecond(batch, () => deployed.Predict(images));
        double BarePass() => Timing.ImagesPerSecond(batch, () => bare.Run(tiles));
        double SleepingPass() => Timing.ImagesPerSecond(batch, () => sleeping.Predict(images));

        foreach (var load in quick ? new[] { false } : new[] { false, true })
        {
            using var busy = load
                ? Process.Start(new ProcessStartInfo("sh", "-c \"while :; do :; done\"") { UseShellExecute = false })
                : null;
            try
            {
                var versus = PairedPasses.Measure(Pairs, OnnxPass, TorchPass);
                var bound = PairedPasses.Measure(Pairs, OnnxPass, BarePass);
                var spinning = PairedPasses.Measure(Pairs, SleepingPass, OnnxPass);
                Console.WriteLine(
                    $"| {batch} × {label} | {exportLabel} | {torchChild.First:F2} s / {onnxChild.First:F2} s | "
                        + $"{torchChild.PeakMiB:F0} / {onnxChild.PeakMiB:F0} MiB ({torchChild.Libtorch} / "
                        + $"{onnxChild.Libtorch}) | {(load ? "one core busy" : "quiet")} | {versus.Bound:F2} | "
                        + $"{versus.Model:F2} | {versus.Ratio:F2} ({versus.MinRatio:F2}–{versus.MaxRatio:F2}) | "
                        + $"{bound.Ratio:F2} ({bound.MinRatio:F2}–{bound.MaxRatio:F2}) | {spinning.Ratio:F2} "
                        + $"({spinning.MinRatio:F2}–{spinning.MaxRatio:F2}) |"
                );
            }
            finally
            {
                busy?.Kill();
            }
        }
    }

    private static void DisposeAll(System.Collections.Generic.IEnumerable<IDisposable> items)
    {
        foreach (var item in items)
        {
            item.Dispose();
        }
    }

    private static (double First, double PeakMiB, string Libtorch) Child(
        string self,
        string side,
        string path,
        string image,
        int repeats
    )
    {
        var (result, exitCode, output) = BenchmarkChild.RunForLine(
            self,
            DeployChild.Prefix,
            "--deploy-child",
            side,
            path,
            image,
            repeats.ToString(System.Globalization.CultureInfo.InvariantCulture)
        );
        if (result is null || exitCode != 0)
        {
            throw new InvalidOperationException($"The {side} deployment child failed ({exitCode}):\n{output}");
        }

        var parts = result.Split(' ').Select(p => double.Parse(p, System.Globalization.CultureInfo.InvariantCulture));
        var values = parts.ToArray();
        return (values[0], values[1], values[2] > 0 ? "yes" : "no");
    }
}
