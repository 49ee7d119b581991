// Benchmarks: `dotnet run -c Release --project benchmarks/TiledEnsemble.Benchmarks -- [--quick] [--charts DIR]
// [ensemble|train-memory|predict-memory|patchcore-training|peer|peer-stages|convolutions|models|training|quality
// |scale-out|metrics|deploy|deploy-breakdown|deploy-equality|calibration|levers ...]` (quality also takes --scale S,
// --seeds N, --epochs E, --models padim,stfpm; calibration and levers also take --first-seed F (seeds F to F+N-1,
// so that a run can add seeds to an earlier one); calibration takes --data "brick,faint aligned parts" and levers
// --levers "defaults,blur σ 1" as their tables name them; calibration also --ways N (the first N ways, or their
// names: "anomalib,per position"), --layers layer1,layer2, --epochs E, --models fastflow,stfpm,reversedistillation and
// --good-loss-patience P: held-out ways keep the epoch of least loss on the held-out good images).
// Every figure is measured side by side in one run; results are recorded in docs/benchmarks.md.
using System;
using System.Linq;
using TiledEnsemble.Benchmarks;

_ = TiledEnsemble.Hosting.OpenMpWaitPolicy.Applied;

// Every figure printed (and every child process's report) reads the same on any machine.
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;

if (args.Length is 4 or 5 && args[0] == "--measure-one")
{
    EnsembleBenchmark.MeasureOne(
        args[1],
        int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture),
        args.Length == 5 ? args[4] : "standard"
    );
    return;
}

if (args.Length == 3 && args[0] == "--gen-data")
{
    TiledEnsemble.Data.Synthetic.DefectDatasetGenerator.Write(
        args[1],
        new TiledEnsemble.Data.Synthetic.DefectDatasetOptions
        {
            Category = "fabric",
            ImageSize = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture),
            TrainCount = 16,
            TestGoodCount = 4,
            TestPerDefect = 0,
            Seed = 5,
        }
    );
    Console.WriteLine("data written");
    return;
}

if (args.Length == 7 && args[0] == "--scale-out-child")
{
    ScaleOutBenchmark.ChildMain(args);
    return;
}

if (args.Length > 1 && args[0] == CliCommandChild.Flag)
{
    Environment.ExitCode = CliCommandChild.ChildMain(args[1..]);
    return;
}

if (args.Length == 5 && args[0] == "--deploy-child")
{
    DeployChild.Measure(args);
    return;
}

if (args.Length == 1 && args[0] == "--blur-probe")
{
    BlurProbe.Run();
    return;
}

if (args.Length is 1 or 2 && args[0] == "--scalar-race-probe")
{
    ScalarRaceProbe.Run(
        args.Length == 2 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30
    );
    return;
}

if (args.Length == 1 && args[0] == "--overhead-only")
{
    // As in prediction after Ensemble.Load: freed blocks are kept for the next image.
    TiledEnsemble.Hosting.NativeAllocator.BeginPrediction(
        Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
    );
    EnsembleBenchmark.Overhead(8, 128);
    return;
}

bool quick = args.Contains("--quick");
int chartsAt = Array.IndexOf(args, "--charts");
if (chartsAt >= 0 && chartsAt + 1 < args.Length)
{
    BenchmarkCharts.Folder = args[chartsAt + 1];
}

// Options with a value: --charts DIR, and the quality benchmark's --scale S, --seeds N, --epochs E, --models a,b.
string? Value(string option) =>
    Array.IndexOf(args, option) is int at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
var valued = new[]
{
    "--charts",
    "--scale",
    "--seeds",
    "--first-seed",
    "--epochs",
    "--models",
    "--data",
    "--levers",
    "--ways",
    "--layers",
    "--good-loss-patience",
}
    .Select(o => Array.IndexOf(args, o))
    .Where(i => i >= 0)
    .Select(i => i + 1)
    .ToHashSet();
var selected = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && !valued.Contains(i))
    .ToHashSet(StringComparer.OrdinalIgnoreCase);
bool Wants(string name) => selected.Count == 0 || selected.Contains(name);
int firstSeed = int.Parse(Value("--first-seed") ?? "1", System.Globalization.CultureInfo.InvariantCulture);

Console.WriteLine($"# TiledEnsemble benchmarks{(quick ? " (quick)" : string.Empty)}");
Console.WriteLine(
    $"Machine: {Environment.ProcessorCount} cores, "
        + $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, TorchSharp threads "
        + $"{TorchSharp.torch.get_num_threads()}, OpenMP wait policy {TiledEnsemble.Hosting.OpenMpWaitPolicy.Applied}"
);
Console.WriteLine();
if (Wants("ensemble"))
{
    EnsembleBenchmark.Run(quick, typeof(EnsembleBenchmark).Assembly.Location);
}

if (Wants("train-memory"))
{
    TrainCommandMemory.Run(quick);
}

if (Wants("predict-memory"))
{
    PredictCommandMemory.Run(quick);
}

if (Wants("patchcore-training"))
{
    PatchcoreTrainingBenchmark.Run(quick);
}

if (Wants("peer"))
{
    PeerBenchmark.Run(quick);
}

if (Wants("peer-stages"))
{
    PeerStagesBenchmark.Run(quick);
}

if (Wants("convolutions"))
{
    ConvolutionBenchmark.Run(quick);
}

if (Wants("models"))
{
    ModelsBenchmark.Run(quick);
}

if (Wants("training"))
{
    TrainingBenchmark.Run(quick);
}

if (Wants("quality"))
{
    QualityBenchmark.Run(
        quick,
        int.Parse(Value("--scale") ?? "512", System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(Value("--seeds") ?? "3", System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(Value("--epochs") ?? "5", System.Globalization.CultureInfo.InvariantCulture),
        (Value("--models") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)
    );
}

if (Wants("calibration"))
{
    CalibrationBenchmark.Run(
        quick,
        int.Parse(Value("--scale") ?? "256", System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(Value("--seeds") ?? "3", System.Globalization.CultureInfo.InvariantCulture),
        firstSeed,
        int.Parse(Value("--epochs") ?? "5", System.Globalization.CultureInfo.InvariantCulture),
        (Value("--models") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        (Value("--data") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        Value("--ways") ?? "4",
        (Value("--layers") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        Value("--good-loss-patience") is { } patience
            ? int.Parse(patience, System.Globalization.CultureInfo.InvariantCulture)
            : null
    );
}

if (Wants("levers"))
{
    LeversBenchmark.Run(
        quick,
        int.Parse(Value("--scale") ?? "256", System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(Value("--seeds") ?? "3", System.Globalization.CultureInfo.InvariantCulture),
        firstSeed,
        (Value("--models") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        (Value("--levers") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)
    );
}

if (Wants("scale-out"))
{
    ScaleOutBenchmark.Run(quick, typeof(ScaleOutBenchmark).Assembly.Location);
}

if (Wants("metrics"))
{
    MetricsBenchmark.Run(quick);
}

if (Wants("deploy-equality"))
{
    DeployEqualityBenchmark.Run(quick);
}

if (Wants("deploy"))
{
    DeployBenchmark.Run(quick, typeof(DeployBenchmark).Assembly.Location);
}

if (Wants("deploy-breakdown"))
{
    DeployBreakdown.Run(quick);
}
