using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tests.Export;
using Xunit;

namespace TiledEnsemble.Tests;

/// <summary>
/// A run calibrated per pixel on held-out good images: each position records its statistics from exactly the held-out
/// tiles, the false-reject threshold on the calibrated scores rejects the asked share, and the reloaded run and its
/// ONNX export predict what the trained ensemble predicts.
/// </summary>
public sealed class PositionCalibrationEnsembleTests : IClassFixture<GeneratedData>, System.IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _runs = Directory.CreateTempSubdirectory("position-calibration-").FullName;

    public PositionCalibrationEnsembleTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task APerPixelCalibratedRunSavesReloadsAndExportsTheSamePredictions()
    {
        var data = _data.Module(5, new SplitOptions { ValSplitMode = ValSplitMode.FromTrain, ValSplitRatio = 0.5 });
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(tileSize: 64, stride: 64)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 20)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(5, 5)
            .WithCalibration(PositionCalibration.PerPixel)
            .WithImageScore(ImageScoreAggregation.MaxOfPositions)
            .WithFalseRejectRate(0.2)
            .WithSeed(3)
            .Build();
        var run = Path.Combine(_runs, "run0");
        await ensemble.FitAsync(data, run);

        // Every position learned from the ten held-out good images, one tile each, at the tile map's size.
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!;
        var positions = manifest["Positions"]!.AsArray();
        Assert.Equal(4, positions.Count);
        foreach (var position in positions)
        {
            var statistics = position!["Statistics"]!;
            Assert.Equal("PerPixel", statistics["calibration"]!.GetValue<string>());
            Assert.Equal(10, statistics["good_tiles"]!.GetValue<long>());
            Assert.Equal(64, statistics["height"]!.GetValue<int>());
        }

        using var reopened = Ensemble.Load(run);
        var held = data.Validation.Select(s => reopened.Predict(s.ImagePath)).ToList();
        try
        {
            Assert.Equal(2, held.Count(p => p.Label));
        }
        finally
        {
            held.ForEach(p => p.Dispose());
        }

        var export = Path.Combine(_runs, "export");
        EnsembleExporter.Export(reopened.Predictor!, export);
        using var deployed = DeployedEnsemble.Load(export);
        foreach (var sample in data.Test.Take(5).Concat(data.Validation.Take(2)))
        {
            using var expected = ensemble.Predict(sample.ImagePath);
            using var again = reopened.Predict(sample.ImagePath);
            Assert.Equal(expected.RawScore, again.RawScore);
            Assert.Equal(expected.AnomalyMap.data<float>().ToArray(), again.AnomalyMap.data<float>().ToArray());
            ExportComparison.AssertEqual(
                expected,
                deployed.Predict(sample.ImagePath),
                deployed.PixelThreshold,
                deployed.ImageThreshold,
                sample.ImagePath
            );
        }
    }
}
