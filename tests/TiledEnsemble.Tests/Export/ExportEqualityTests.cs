using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Models;
using Xunit;
using Xunit.Abstractions;

namespace TiledEnsemble.Tests.Export;

/// <summary>Each model's export, predicted by ONNX Runtime, equals the TorchSharp predictor on the same
/// images.</summary>
public sealed class ExportEqualityTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("export-").FullName;

    public ExportEqualityTests(GeneratedData data, ITestOutputHelper output)
    {
        _data = data;
        _output = output;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(ModelKind.Padim, 32)]
    [InlineData(ModelKind.Patchcore, 32)]
    [InlineData(ModelKind.Patchcore, 32, 1)] // one neighbour: the score is the largest patch distance
    [InlineData(ModelKind.Stfpm, 64)]
    [InlineData(ModelKind.FastFlow, 64)]
    [InlineData(ModelKind.ReverseDistillation, 64)]
    public async Task TheExportPredictsWhatTheRunPredicts(ModelKind kind, int stride, int neighbours = 9)
    {
        // 128² images in tiles of 64: with stride 32 a 3×3 grid with overlaps and seams, with stride 64 a 2×2 grid
        // (the gradient-trained models, whose graphs are larger); image-stage post-processing in both.
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, stride)
            .WithModel(kind, m =>
            {
                m.NFeatures = kind == ModelKind.Padim ? 20 : null;
                m.MaxEpochs = 1;
                m.FlowSteps = 2;
                m.NumNeighbors = kind == ModelKind.Patchcore ? neighbours : null;
            })
            .WithBatchSizes(8, 8)
            .Build();
        var run = Path.Combine(_work, "run");
        await ensemble.FitAsync(_data.Module(), run);
        var export = Path.Combine(_work, "export");
        var result = EnsembleExporter.Export(ensemble.Predictor!, export);
        Assert.True(File.Exists(Path.Combine(export, "model.onnx")));
        _output.WriteLine($"{kind}: {result.ModelBytes / 1024} KiB in {result.Duration.TotalSeconds:F1} s");

        using var deployed = DeployedEnsemble.Load(export);
        double worstMap = 0,
            worstScore = 0;
        foreach (var sample in _data.Module().Test)
        {
            using var expected = ensemble.Predict(sample.ImagePath);
            var actual = deployed.Predict(sample.ImagePath);
            var (map, score) = ExportComparison.AssertEqual(
                expected,
                actual,
                deployed.PixelThreshold,
                deployed.ImageThreshold,
                $"{kind} {sample.ImagePath}"
            );
            worstMap = Math.Max(worstMap, map);
            worstScore = Math.Max(worstScore, score);
        }

        _output.WriteLine(
            $"{kind}: largest map difference {worstMap:E2} of the range, score difference {worstScore:E2}"
        );
    }
}
