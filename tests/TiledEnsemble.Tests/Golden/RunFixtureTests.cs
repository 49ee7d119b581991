using System;
using System.IO;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Models;
using Xunit;
using Xunit.Abstractions;

namespace TiledEnsemble.Tests.Golden;

/// <summary>
/// A run folder written by the library before runs recorded their stages (tests/TiledEnsemble.Tests/Golden/run-v1: a
/// 2×2 Padim run on 64² images) still loads, and predicts what it predicted then.
/// </summary>
public sealed class RunFixtureTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("run-fixture-").FullName;

    public RunFixtureTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Golden", "run-v1");

    [Fact]
    public async Task ARunOfTheFirstFormatLoadsAndPredictsAsItDid()
    {
        if (Environment.GetEnvironmentVariable(DefaultPipelineGoldenTests.RecordVariable) is { Length: > 0 } folder)
        {
            await Record(Path.Combine(folder, "run-v1"));
            return;
        }

        // A copy: loading must not need to write, but a failing load must not touch the committed fixture either.
        var run = Path.Combine(_work, "run");
        CopyFolder(Path.Combine(Fixture, "run"), run);
        using var ensemble = Ensemble.Load(run);
        using var prediction = ensemble.Predict(Path.Combine(Fixture, "image.png"));
        var recorded = GoldenRecord.Load(Path.Combine(Fixture, "prediction.json"));
        var now = new GoldenRecord
        {
            Machine = GoldenRecord.ThisMachine(),
            Images = { GoldenImage.Of("image.png", prediction) },
        };
        // Loading trains nothing: the saved weights predict within the tight tolerance on any machine kind.
        _output.WriteLine(recorded.CompareWith(now, trainedByGradient: false));

        // It recorded no stages: it was made with the defaults of its settings, and refuses others.
        var error = Assert.Throws<StageMismatchException>(() =>
            EnsemblePredictor.Load(run, new EnsembleLoadOptions { Joiner = new Samples.CustomPipeline.MaxJoiner() })
        );
        Assert.Equal("joiner", error.Role);
        Assert.Equal("mean_joiner", error.Recorded.Name);
    }

    private static async Task Record(string folder)
    {
        var data = Path.Combine(folder, "data");
        DefectDatasetGenerator.Write(
            data,
            new DefectDatasetOptions
            {
                Category = "fabric",
                Texture = TextureKind.WovenFabric,
                ImageSize = 64,
                TrainCount = 8,
                TestGoodCount = 2,
                TestPerDefect = 1,
                DefectAreaFraction = 0.01,
                Seed = 5,
            }
        );
        var loader = new LoaderOptions
        {
            ImageSize = 64,
            TrainBatchSize = 8,
            EvalBatchSize = 8,
            NumWorkers = 0,
        };
        var module = AnomalyDataModule.MvtecAD(data, "fabric", new SplitOptions { Seed = 5 }, loader);
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(tileSize: 32, stride: 32)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithSeed(5)
            .WithBatchSizes(8, 8)
            .Build();
        await ensemble.FitAsync(module, Path.Combine(folder, "run"));
        var image = Path.Combine(folder, "image.png");
        File.Copy(module.Test[^1].ImagePath, image);
        using var prediction = ensemble.Predict(image);
        new GoldenRecord
        {
            Machine = GoldenRecord.ThisMachine(),
            Images = { GoldenImage.Of("image.png", prediction) },
        }.Save(Path.Combine(folder, "prediction.json"));
        Directory.Delete(data, recursive: true);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
