using System;
using System.Diagnostics;
using System.IO;
using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Peak memory of the whole <c>tiled-ensemble train</c> command (fit, validation statistics, test evaluation with its
/// pictures) at the seed's configuration: Padim on the ImageNet ResNet-18, layers 1–3, batch 32, 40 generated
/// training images of 512², as a 3×3 ensemble of 256² tiles with stride 128 and as one model at 256². Each runs in
/// a child process of its own, which reports its peak resident set (<c>VmHWM</c>) when the command has returned.
/// </summary>
internal static class TrainCommandMemory
{
    public static void Run(bool quick)
    {
        int size = quick ? 64 : 512;
        var root = Path.Combine(Path.GetTempPath(), $"train-memory-{Guid.NewGuid():N}");
        try
        {
            DefectDatasetGenerator.Write(
                Path.Combine(root, "data"),
                new DefectDatasetOptions
                {
                    Category = "fabric",
                    ImageSize = size,
                    TrainCount = quick ? 6 : 40,
                    TestGoodCount = quick ? 2 : 10,
                    TestPerDefect = quick ? 1 : 2,
                    Seed = 11,
                }
            );
            Console.WriteLine(
                $"## Memory of the whole `train` command (Padim, ImageNet ResNet-18 layers 1–3, batch 32, "
                    + $"{(quick ? 6 : 40)} training images of {size}², generated)"
            );
            Console.WriteLine("| configuration | positions | peak RSS of the process | × single | seconds |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            var single = Measure(root, "single", size / 2, size / 2, size / 2);
            var tiled = Measure(root, "tiled", size, size / 2, size / 4);
            Console.WriteLine(
                FormattableString.Invariant(
                    $"| one model at {size / 2}² | 1 | {single.Peak >> 20} MiB | 1.00 | {single.Seconds:F0} |"
                )
            );
            Console.WriteLine(
                (
                    $"| 3×3 tiles of {size / 2}² (stride {size / 4}) over {size}² | 9 | {tiled.Peak >> 20} MiB | "
                    + $"{(double)tiled.Peak / single.Peak:F2} | {tiled.Seconds:F0} |"
                )
            );
            Console.WriteLine();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (long Peak, double Seconds) Measure(
        string root,
        string name,
        int imageSize,
        int tileSize,
        int stride
    )
    {
        var config = Path.Combine(root, name + ".yaml");
        File.WriteAllText(
            config,
            FormattableString.Invariant(
                $"""
                seed: 42
                default_root_dir: {Path.Combine(root, "results-" + name)}
                tiling:
                  image_size: {imageSize}
                  tile_size: {tileSize}
                  stride: {stride}
                data:
                  class_path: anomalib.data.MVTecAD
                  init_args:
                    root: {Path.Combine(root, "data")}
                    category: fabric
                    train_batch_size: 32
                    eval_batch_size: 32
                    num_workers: 8
                TrainModels:
                  model:
                    class_path: Padim
                    init_args:
                      backbone: resnet18
                      pre_trained: true
                      layers: [layer1, layer2, layer3]
                """
            )
        );
        var watch = Stopwatch.StartNew();
        long peak = CliCommandChild.PeakOf("train", "--config", config);
        return (peak, watch.Elapsed.TotalSeconds);
    }
}
