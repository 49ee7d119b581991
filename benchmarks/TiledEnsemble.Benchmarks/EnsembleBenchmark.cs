using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Memory and scaling of the tiled ensemble (Padim, ResNet-18, seeded weights): peak process memory while training,
/// train time and prediction throughput for grids of 2×2, 4×4 and 8×8 tiles, next to one model at the tile
/// resolution and one at the full resolution. Each configuration runs in a child process, so every peak is that
/// configuration's own. Also: the share of prediction time spent joining, smoothing seams and post-processing.
/// </summary>
internal static class EnsembleBenchmark
{
    /// <summary>Alternating prediction and bound passes per child, after one warm-up pass of each.</summary>
    private const int Pairs = 7;

    /// <summary>The larger prediction batch of the throughput children.</summary>
    private const int LargeBatch = 16;

    public static void Run(bool quick, string self)
    {
        int tile = quick ? 32 : 128;
        int[] grids = quick ? new[] { 2, 4 } : new[] { 2, 4, 8 };
        int full = tile * grids[^1];
        int train = quick ? 6 : 16,
            test = 4;
        var root = Directory.CreateTempSubdirectory("bench-ensemble-").FullName;
        try
        {
            Console.WriteLine(
                $"## Tiled ensemble memory and scaling (Padim, ResNet-18; tiles {tile}x{tile}; {train} training "
                    + $"images generated at {full}x{full})"
            );
            DefectDatasetGenerator.Write(
                root,
                new DefectDatasetOptions
                {
                    Category = "fabric",
                    ImageSize = full,
                    TrainCount = train,
                    TestGoodCount = test,
                    TestPerDefect = 0,
                    Seed = 5,
                }
            );
            Console.WriteLine(
                "| configuration | positions | peak memory growth while training | ratio to single at tile "
                    + "resolution | train s | train s per position | predict images/s |"
            );
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
            var configurations = new List<(string Name, int Image, int Tile)>
            {
                ($"single model at {tile}x{tile} (tile resolution)", tile, tile),
            };
            configurations.AddRange(grids.Select(g => ($"tiled {g}x{g} over {g * tile}x{g * tile}", g * tile, tile)));
            configurations.Add(($"single model at {full}x{full} (full resolution)", full, full));
            Measurement? baseline = null;
            var peaks = new List<(int Image, int Tile, double PeakMiB)>();
            foreach (var (name, image, tileSize) in configurations)
            {
                var m = Child(self, root, image, tileSize);
                baseline ??= m;
                peaks.Add((image, tileSize, m.PeakMiB));

                Console.WriteLine(
                    (
                        $"| {name} | {m.Positions} | {m.PeakMiB:F0} MiB | {m.PeakMiB / baseline.PeakMiB:F2} | "
                        + $"{m.TrainSeconds:F1} | {m.TrainSeconds / m.Positions:F2} | "
                        + $"{m.PredictImagesPerSecond:F2} |"
                    )
                );
            }

            var tiled = peaks.Where(p => p.Tile == tile && p.Image > tile).ToList();
            BenchmarkCharts.Lines(
                "ensemble-memory.png",
                $"Peak memory growth while training (Padim, {tile}² tiles)",
                "image side (pixels)",
                "MiB (log scale)",
                new[]
                {
                    (
                        "tiled ensemble",
                        tiled.Select(p => (double)p.Image).Prepend(tile).ToArray(),
                        tiled.Select(p => p.PeakMiB).Prepend(baseline!.PeakMiB).ToArray()
                    ),
                    (
                        "single model at the image size",
                        new double[] { tile, full },
                        new[] { baseline.PeakMiB, peaks[^1].PeakMiB }
                    ),
                },
                logY: true
            );

            // The same pair with glibc's dynamic mmap threshold left on (NativeAllocator.AutomaticRetentionLimit =
            // false): what the automatic limit saves, and what it costs in time.
            var dynamicBase = Child(self, root, tile, tile, "dynamic-threshold");
            var dynamic = Child(self, root, full, tile, "dynamic-threshold");
            Console.WriteLine(
                (
                    $"| single model at {tile}x{tile}, glibc's dynamic threshold | 1 | {dynamicBase.PeakMiB:F0} MiB "
                    + $"| 1.00 | {dynamicBase.TrainSeconds:F1} | {dynamicBase.TrainSeconds:F2} | "
                    + $"{dynamicBase.PredictImagesPerSecond:F2} |"
                )
            );
            Console.WriteLine(
                (
                    $"| tiled {grids[^1]}x{grids[^1]} over {full}x{full}, glibc's dynamic threshold | "
                    + $"{dynamic.Positions} | {dynamic.PeakMiB:F0} MiB | "
                    + $"{dynamic.PeakMiB / dynamicBase.PeakMiB:F2} | {dynamic.TrainSeconds:F1} | "
                    + $"{dynamic.TrainSeconds / dynamic.Positions:F2} | {dynamic.PredictImagesPerSecond:F2} |"
                )
            );

            // Prediction of the whole ensemble against the bare backbone over the same tiles, for both models.
            var padim = Child(self, root, full, tile, "throughput");
            var patchcore = Child(self, root, full, tile, "patchcore");
            Console.WriteLine();
            Console.WriteLine(
                $"| ensemble {grids[^1]}x{grids[^1]} over {full}x{full} | batch | predict images/s (median) | "
                    + $"backbone bound images/s (same tiles, median) | ratio (median of {Pairs} paired passes, range) "
                    + $"| exact-search ceiling |"
            );
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            foreach (var (name, m) in new[] { ("Padim", padim), ("Patchcore", patchcore) })
            {
                string ceiling = double.IsNaN(m.ExactSearchCeiling)
                    ? "-"
                    : FormattableString.Invariant($"{m.ExactSearchCeiling:F2}");
                Console.WriteLine(
                    (
                        $"| {name} | {test} | {m.PredictImagesPerSecond:F2} | {m.BoundImagesPerSecond:F2} | "
                        + $"{m.Ratio:F2} ({m.MinRatio:F2}–{m.MaxRatio:F2}) | {ceiling} |"
                    )
                );
                Console.WriteLine(
                    (
                        $"| {name} | {LargeBatch} | {m.Large.Model:F2} | {m.Large.Bound:F2} | {m.Large.Ratio:F2} "
                        + $"({m.Large.MinRatio:F2}–{m.Large.MaxRatio:F2}) | - |"
                    )
                );
            }

            Overhead(grids[^1], tile);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        Console.WriteLine();
    }

    /// <summary>Child-process entry: trains and predicts one configuration and prints its measurements.</summary>
    /// <param name="root">The generated dataset.</param>
    /// <param name="imageSize">Image side.</param>
    /// <param name="tileSize">Tile side (no overlap).</param>
    /// <param name="variant">For attributing memory: "tile-stage" (no image-stage statistics), "no-workers" (decoding
    /// on the training thread), "dynamic-threshold" (NativeAllocator.AutomaticRetentionLimit off), "throughput" (also a
    /// larger prediction batch), "patchcore" (Patchcore instead of Padim, also a larger batch); anything else is the
    /// standard configuration.</param>
    public static void MeasureOne(string root, int imageSize, int tileSize, string variant = "standard")
    {
        TiledEnsemble.Hosting.NativeAllocator.AutomaticRetentionLimit = variant != "dynamic-threshold";
        var kind = variant == "patchcore" ? ModelKind.Patchcore : ModelKind.Padim;

        var loader = new LoaderOptions
        {
            ImageSize = imageSize,
            TrainBatchSize = 4,
            EvalBatchSize = 4,
            NumWorkers = variant == "no-workers" ? 0 : 1,
            PrefetchBatches = variant == "no-workers" ? 0 : 1,
        };
        var data = AnomalyDataModule.MvtecAD(root, "fabric", new SplitOptions(), loader);
        var builder = TiledEnsembleBuilder
            .Create()
            .WithImageSize(imageSize)
            .WithTiling(tileSize, tileSize)
            .WithModel(kind, m => m.Backbone = "resnet18")
            .WithPretrainedBackbone(false)
            .WithBatchSizes(4, 4);
        if (variant == "tile-stage")
        {
            builder.WithNormalization(Stage.Tile).WithThresholding(ThresholdMethod.F1Adaptive, Stage.Tile);
        }

        using var ensemble = builder.Build();
        var run = Path.Combine(Path.GetTempPath(), "bench-run-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var warm = zeros(1, 3, 8, 8))
            {
                GC.Collect();
            }

            long before = ProcessMemory.Resident();
            ProcessMemory.ResetPeak();
            var watch = Stopwatch.StartNew();
            ensemble.FitAsync(data, run).GetAwaiter().GetResult();
            double trainSeconds = watch.Elapsed.TotalSeconds;
            long peak = ProcessMemory.Peak() - before;

            var images = data.Test.Select(s => ImageIO.ReadImage(s.ImagePath)).ToArray();
            using var small = stack(images);
            var measured = Throughput(ensemble, kind, small, tileSize);
            double ceiling =
                kind == ModelKind.Patchcore
                    ? ExactSearchCeiling(run, images.Length, tileSize, measured.Bound)
                    : double.NaN;

            // The throughput children also predict a larger batch (the test images repeated, the default evaluation
            // batch being 32): Padim's per-position statistics are read once per batch, so their cost falls with its
            // size.
            PairedThroughput? large = null;
            if (variant is "throughput" or "patchcore")
            {
                using var repeated = small.repeat(LargeBatch / small.shape[0], 1, 1, 1);
                large = Throughput(ensemble, kind, repeated, tileSize);
            }

            Console.WriteLine(
                (
                    $"RESULT {ensemble.Grid.Count} {peak / 1048576.0} {trainSeconds} {measured.Model} "
                    + $"{measured.Bound} {measured.Ratio} {measured.MinRatio} {measured.MaxRatio} {ceiling} "
                    + $"{large?.Model ?? double.NaN} {large?.Bound ?? double.NaN} {large?.Ratio ?? double.NaN} "
                    + $"{large?.MinRatio ?? double.NaN} {large?.MaxRatio ?? double.NaN}"
                )
            );
        }
        finally
        {
            if (Directory.Exists(run))
            {
                Directory.Delete(run, recursive: true);
            }
        }
    }

    /// <summary>The ensemble's prediction of <paramref name="batch"/> against the backbone over the same tiles, in
    /// paired passes.</summary>
    private static PairedThroughput Throughput(Ensemble ensemble, ModelKind kind, Tensor batch, int tileSize)
    {
        int images = (int)batch.shape[0];
        using var bound = new BackboneBound(kind, images, ensemble.Grid.Count, tileSize);
        double PredictionPass()
        {
            var watch = Stopwatch.StartNew();
            foreach (var p in ensemble.Predict(batch))
            {
                p.Dispose();
            }

            return images / watch.Elapsed.TotalSeconds;
        }

        return PairedPasses.Measure(Pairs, PredictionPass, bound.Pass);
    }

    /// <summary>
    /// Patchcore's exact-search ceiling for the whole ensemble: one product of every position's query patches with that
    /// position's memory bank (read from the run) per batch, the least any exact search does, timed next to the
    /// backbone.
    /// </summary>
    private static double ExactSearchCeiling(string run, int images, int tileSize, double boundImagesPerSecond)
    {
        using var scope = NewDisposeScope();
        var banks = Directory
            .GetFiles(Path.Combine(run, "positions"), "*.safetensors")
            .Select(f => TiledEnsemble.Serialization.SafeTensors.Load(f).Tensors["memory_bank"])
            .ToArray();
        long patchesPerImage = (tileSize / 8) * (tileSize / 8); // layer2's grid: stride 8
        double search = ExactSearchFloor.SecondsPerImage(banks, patchesPerImage, images, Pairs);
        return ExactSearchFloor.Ceiling(1 / boundImagesPerSecond, search);
    }

    /// <summary>
    /// The bare backbone (the layers the model uses, seeded ResNet-18) over the same tiles the ensemble predicts: one
    /// batch of as many tiles as images per position, as the ensemble batches them.
    /// </summary>
    private sealed class BackboneBound : IDisposable
    {
        private readonly TiledEnsemble.Models.Backbones.ResNet _backbone = TiledEnsemble.Models.Backbones.ResNet.Create(
            TiledEnsemble.Models.Backbones.BackboneKind.ResNet18,
            42
        );
        private readonly string[] _layers;
        private readonly Tensor _tiles;
        private readonly int _positions;

        public BackboneBound(ModelKind kind, int images, int positions, int tileSize)
        {
            _layers =
                kind == ModelKind.Patchcore ? new[] { "layer2", "layer3" } : new[] { "layer1", "layer2", "layer3" };
            _positions = positions;
            using var generator = new Generator(3);
            _tiles = rand(new long[] { images, 3, tileSize, tileSize }, generator: generator);
        }

        /// <summary>Images per second over one pass of every position.</summary>
        public double Pass()
        {
            using var inference = inference_mode();
            var watch = Stopwatch.StartNew();
            for (int p = 0; p < _positions; p++)
            {
                using var step = NewDisposeScope();
                _backbone.Features(_tiles, _layers);
            }

            return _tiles.shape[0] / watch.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            _backbone.Dispose();
            _tiles.Dispose();
        }
    }

    private sealed record Measurement(
        int Positions,
        double PeakMiB,
        double TrainSeconds,
        double PredictImagesPerSecond,
        double BoundImagesPerSecond,
        double Ratio,
        double MinRatio,
        double MaxRatio,
        double ExactSearchCeiling,
        PairedThroughput Large
    );

    private static Measurement Child(string self, string root, int imageSize, int tileSize, string variant = "standard")
    {
        var (line, exitCode, output) = BenchmarkChild.RunForLine(
            self,
            "RESULT ",
            "--measure-one",
            root,
            imageSize.ToString(CultureInfo.InvariantCulture),
            tileSize.ToString(CultureInfo.InvariantCulture),
            variant
        );
        if (line is null)
        {
            throw new InvalidOperationException(
                $"The measurement of {imageSize}/{tileSize} failed (exit {exitCode}): {output}"
            );
        }

        var v = line.Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return new Measurement(
            (int)v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            v[5],
            v[6],
            v[7],
            v[8],
            new PairedThroughput(v[9], v[10], v[11], v[12], v[13])
        );
    }

    /// <summary>Time of joining, seam smoothing and post-processing for one batch of the largest grid, alone.</summary>
    public static void Overhead(int grid, int tile)
    {
        using var scope = NewDisposeScope();
        int batch = 4,
            size = grid * tile;
        var tiler = new EnsembleTiler(tile, tile, size);
        var joiner = new Joiner();
        var smoother = new SeamSmoother();
        var processor = new CalibratedPostProcessor(
            new PostProcessingStatistics
            {
                ImageMin = 0,
                ImageMax = 1,
                PixelMin = 0,
                PixelMax = 1,
                ImageThreshold = 0.5,
                PixelThreshold = 0.5,
            }
        );
        var predictions = tiler
            .TilePositions.Select(p => new TilePrediction(p, rand(batch, 1, tile, tile), rand(batch)))
            .ToList();
        const int Repeats = 20;
        double join = 0,
            smooth = 0,
            post = 0;
        for (int i = 0; i < Repeats + 1; i++)
        {
            using var inner = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            using var joined = joiner.Join(predictions, tiler.Grid!);
            double t1 = watch.Elapsed.TotalSeconds;
            var maps = smoother.Smooth(joined.AnomalyMaps, tiler.Grid!);
            double t2 = watch.Elapsed.TotalSeconds;
            processor.NormalizeMaps(maps);
            processor.NormalizeScores(joined.Scores);
            processor.MasksFromRawMaps(maps);
            double t3 = watch.Elapsed.TotalSeconds;
            if (i > 0)
            {
                // The first pass warms up the allocator and kernels.
                join += t1;
                smooth += t2 - t1;
                post += t3 - t2;
            }
        }

        double perImage = (join + smooth + post) / Repeats / batch;
        Console.WriteLine(
            (
                $"Per image: join {join / Repeats / batch * 1000:F2} ms, seam smoothing "
                + $"{smooth / Repeats / batch * 1000:F2} ms, post-processing {post / Repeats / batch * 1000:F2} ms."
            )
        );
        Console.WriteLine(
            (
                $"Joining + seam smoothing + post-processing alone, {grid}x{grid} grid at {size}x{size}: "
                + $"{perImage * 1000:F2} ms per image (compare with 1 / predict images/s above)."
            )
        );

        // Boxes are found per image after post-processing; their cost depends on the mask.
        var map = rand(1, size, size);
        var none = zeros(new long[] { 1, size, size }, dtype: ScalarType.Bool);
        var pixel = none.clone();
        pixel[0, size / 2, size / 3] = tensor(true);
        var spot = none.clone();
        spot[0, TensorIndex.Slice(size / 4, (size / 4) + 32), TensorIndex.Slice(size / 2, (size / 2) + 32)] = tensor(
            true
        );
        double Milliseconds(Action find)
        {
            find();
            return Timing.Seconds(() =>
                {
                    for (int i = 0; i < Repeats; i++)
                    {
                        find();
                    }
                })
                / Repeats
                * 1000;
        }

        double Boxes(Tensor mask) => Milliseconds(() => TiledEnsemble.Prediction.BoxFinder.Find(map, mask));

        // What labelling without the crop costs: both planes copied out whole and every pixel visited.
        double WholeImage(Tensor mask) =>
            Milliseconds(() =>
            {
                _ = map.flatten().data<float>().ToArray();
                TiledEnsemble.Metrics.ConnectedComponents.Label(mask.flatten().data<bool>().ToArray(), size, size);
            });

        // The ONNX Runtime package's path: the same regions from plain arrays, inside the mask's rectangle or not.
        var pixelMask = pixel.flatten().data<bool>().ToArray();
        var mapValues = map.flatten().data<float>().ToArray();
        double fromArrays = Milliseconds(() =>
                TiledEnsemble.Metrics.RegionBoxes.FindInImage(pixelMask, mapValues, size, size)
            ),
            fromArraysWhole = Milliseconds(() =>
                TiledEnsemble.Metrics.RegionBoxes.Find(pixelMask, mapValues, size, size)
            );

        double onePixel = Boxes(pixel),
            onePixelWhole = WholeImage(pixel);
        Console.WriteLine(
            (
                $"Boxes of one {size}x{size} image: no masked pixel {Boxes(none):F2} ms, one masked pixel "
                + $"{onePixel:F2} ms, a 32x32 masked square {Boxes(spot):F2} ms; labelling the whole image for one "
                + $"masked pixel {onePixelWhole:F2} ms ({onePixelWhole / onePixel:F1} x). From arrays (ONNX Runtime "
                + $"package), one masked pixel: {fromArrays:F2} ms in its rectangle, {fromArraysWhole:F2} ms over the "
                + $"whole image ({fromArraysWhole / fromArrays:F1} x)."
            )
        );
    }
}
