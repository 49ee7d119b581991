using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;
using Xunit;
using Xunit.Abstractions;

namespace TiledEnsemble.Tests.Golden;

/// <summary>
/// Proof that the default stages did not move: the demo configuration and a tiny run of each of the five models are
/// trained, evaluated and predicted, and every map, mask, score, label and metric is compared with golden files that
/// the library recorded before its stages became replaceable. On the machine kind that recorded them (same CPU family,
/// model and vector extensions) the comparison is byte for byte; elsewhere libtorch may pick other kernels, and the
/// comparison is within 1e-4 of each map's range for Padim, Patchcore and the demo. The gradient-trained models are
/// compared coarsely there (metrics and scores within 0.03, map blocks within 0.1): their epochs amplify rounding
/// differences, so that the same seed trained with one thread instead of two, on the same machine, already moves their
/// maps by up to a fifth of an image's range. The test says which comparison it did.
/// </summary>
public sealed class DefaultPipelineGoldenTests : IDisposable
{
    /// <summary>Set to a folder to write new golden files there instead of comparing.</summary>
    public const string RecordVariable = "TILEDENSEMBLE_GOLDEN_RECORD";

    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("golden-").FullName;

    public DefaultPipelineGoldenTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    public static TheoryData<string> Configurations =>
        new() { "demo", "padim", "patchcore", "fastflow", "stfpm", "reverse_distillation" };

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task DefaultStagesGiveTheRecordedPredictions(string configuration)
    {
        var (builder, data) = Setup(configuration);
        using var ensemble = builder.Build();
        await ensemble.FitAsync(data, Path.Combine(_work, "run"));
        var evaluation = await ensemble.EvaluateAsync(data.Test);
        var record = new GoldenRecord
        {
            Machine = GoldenRecord.ThisMachine(),
            Metrics = evaluation.Metrics.ToDictionary(m => m.Key, m => GoldenRecord.Exact(m.Value)),
        };
        foreach (var sample in data.Test)
        {
            using var prediction = ensemble.Predict(sample.ImagePath);
            record.Images.Add(
                GoldenImage.Of(Path.GetRelativePath(Path.Combine(_work, "data"), sample.ImagePath), prediction)
            );
        }

        var file = $"{configuration}.json";
        if (Environment.GetEnvironmentVariable(RecordVariable) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            record.Save(Path.Combine(folder, file));
            _output.WriteLine($"recorded {Path.Combine(folder, file)}");
            return;
        }

        var golden = GoldenRecord.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "files", file));
        bool trainedByGradient = configuration is "fastflow" or "stfpm" or "reverse_distillation";
        _output.WriteLine(golden.CompareWith(record, trainedByGradient));
    }

    /// <summary>The demo's data and ensemble (256², 3×3 tiles of 128, stride 64, Padim), or a tiny run of one
    /// model.</summary>
    internal (TiledEnsembleBuilder Builder, AnomalyDataModule Data) Setup(string configuration)
    {
        var root = Path.Combine(_work, "data");
        bool demo = configuration == "demo";
        int side = demo ? 256 : 64;
        DefectDatasetGenerator.Write(
            root,
            new DefectDatasetOptions
            {
                Category = "fabric",
                Texture = TextureKind.WovenFabric,
                ImageSize = side,
                TrainCount = demo ? 24 : 10,
                TestGoodCount = demo ? 8 : 3,
                TestPerDefect = demo ? 2 : 1,
                DefectAreaFraction = demo ? 0.002 : 0.01,
                Seed = 42,
            }
        );
        var loader = new LoaderOptions
        {
            ImageSize = side,
            TrainBatchSize = 8,
            EvalBatchSize = 8,
            NumWorkers = 2,
        };
        var data = AnomalyDataModule.MvtecAD(root, "fabric", new SplitOptions { Seed = 42 }, loader);
        var builder = TiledEnsembleBuilder.Create().WithImageSize(side).WithSeed(42).WithBatchSizes(8, 8);
        if (demo)
        {
            return (builder.WithTiling(tileSize: 128, stride: 64).WithModel(ModelKind.Padim), data);
        }

        var kind = configuration switch
        {
            "padim" => ModelKind.Padim,
            "patchcore" => ModelKind.Patchcore,
            "fastflow" => ModelKind.FastFlow,
            "stfpm" => ModelKind.Stfpm,
            _ => ModelKind.ReverseDistillation,
        };
        builder
            .WithTiling(tileSize: 32, stride: 16)
            .WithModel(kind, m =>
            {
                m.MaxEpochs = 2;
                m.FlowSteps = 2;
                m.NFeatures = kind == ModelKind.Padim ? 20 : null;
            });
        return (builder, data);
    }
}
