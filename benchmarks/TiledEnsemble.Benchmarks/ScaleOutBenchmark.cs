using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Wall time of training one run: one process with every core, against shard workers (one process per core, one
/// thread each) filling one folder at the same time, then the final step. Every configuration runs in child processes.
/// </summary>
internal static class ScaleOutBenchmark
{
    public static void Run(bool quick, string self)
    {
        int image = quick ? 96 : 512,
            tile = image / 4,
            train = quick ? 6 : 16;
        int workers = Math.Max(2, Environment.ProcessorCount);
        var root = Directory.CreateTempSubdirectory("bench-scale-out-").FullName;
        try
        {
            DefectDatasetGenerator.Write(
                root,
                new DefectDatasetOptions
                {
                    Category = "fabric",
                    ImageSize = image,
                    TrainCount = train,
                    TestGoodCount = 4,
                    TestPerDefect = 1,
                    Seed = 5,
                }
            );
            File.WriteAllText(Path.Combine(root, "size.txt"), image.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine(
                $"## Scale-out: one process against {workers} shard workers (Padim, {image}x{image} in tiles of "
                    + $"{tile}, {train} training images)"
            );
            Console.WriteLine("| configuration | wall s | of which the final step s |");
            Console.WriteLine("| --- | --- | --- |");
            var watch = Stopwatch.StartNew();
            Child(self, root, "single", "all", 0, 0, Environment.ProcessorCount).WaitForExit();
            double single = watch.Elapsed.TotalSeconds;
            Console.WriteLine(
                FormattableString.Invariant($"| one process, {Environment.ProcessorCount} threads | {single:F1} | - |")
            );

            watch.Restart();
            var children = new Process[workers];
            for (int k = 0; k < workers; k++)
            {
                children[k] = Child(self, root, "shared", "shard", k, workers, 1);
            }

            foreach (var child in children)
            {
                child.WaitForExit();
                child.Dispose();
            }

            double shards = watch.Elapsed.TotalSeconds;
            watch.Restart();
            Child(self, root, "shared", "finalize", 0, 0, Environment.ProcessorCount).WaitForExit();
            double finalize = watch.Elapsed.TotalSeconds;
            Console.WriteLine(
                (
                    $"| {workers} shard workers, 1 thread each, then the final step | {shards + finalize:F1} | "
                    + $"{finalize:F1} |"
                )
            );
            Console.WriteLine(
                FormattableString.Invariant($"Ratio one process / shard workers: {single / (shards + finalize):F2}")
            );
            Console.WriteLine();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Child entry: <c>--scale-out-child ROOT RUN MODE INDEX COUNT THREADS</c>.</summary>
    public static void ChildMain(string[] args)
    {
        var (root, run, mode) = (args[1], args[2], args[3]);
        int index = int.Parse(args[4], CultureInfo.InvariantCulture),
            count = int.Parse(args[5], CultureInfo.InvariantCulture);
        TorchSharp.torch.set_num_threads(int.Parse(args[6], CultureInfo.InvariantCulture));
        int image = int.Parse(File.ReadAllText(Path.Combine(root, "size.txt")), CultureInfo.InvariantCulture);
        var data = AnomalyDataModule.MvtecAD(
            root,
            "fabric",
            loader: new LoaderOptions
            {
                ImageSize = image,
                TrainBatchSize = 8,
                EvalBatchSize = 8,
                NumWorkers = 1,
            }
        );
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(image)
            .WithTiling(image / 4, image / 4)
            .WithModel(ModelKind.Padim)
            .WithBatchSizes(8, 8)
            .Build();
        var path = Path.Combine(root, run);
        _ = mode switch
        {
            "all" => (object)ensemble.FitAsync(data, path).GetAwaiter().GetResult(),
            "shard" => ensemble.TrainShardAsync(data, path, index, count).GetAwaiter().GetResult(),
            _ => ensemble.FinalizeAsync(data, path).GetAwaiter().GetResult(),
        };
    }

    private static Process Child(string self, string root, string run, string mode, int index, int count, int threads)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        foreach (
            var argument in new[]
            {
                self,
                "--scale-out-child",
                root,
                run,
                mode,
                index.ToString(CultureInfo.InvariantCulture),
                count.ToString(CultureInfo.InvariantCulture),
                threads.ToString(CultureInfo.InvariantCulture),
            }
        )
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
