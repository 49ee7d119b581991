using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Samples.CustomPipeline;
using TiledEnsemble.Testing;
using Xunit;

namespace TiledEnsemble.Tests.Export;

/// <summary>
/// The export folder: the other post-processing and scoring settings inside the graph, external data, checksums that
/// refuse a changed graph, and stages without an ONNX form refused by name before anything is written.
/// </summary>
public sealed class ExportFolderTests : IClassFixture<GeneratedData>, IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _work = Directory.CreateTempSubdirectory("export-folder-").FullName;

    public ExportFolderTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8);

    [Fact]
    public async Task TileStagePostProcessingAMapAggregationAPaddedGridAndExternalDataEqualTheRun()
    {
        // 120² images in tiles of 64 with stride 32: the grid covers 128², so the last tiles reach into zero padding.
        using var ensemble = Small()
            .WithImageSize(120)
            .WithTiling(64, 32)
            .WithNormalization(Stage.Tile)
            .WithThresholding(ThresholdMethod.F1Adaptive, Stage.Tile)
            .WithImageScore(ImageScoreAggregation.TopKMeanOfMap, topK: 50)
            .Build();
        Assert.False(ensemble.Grid.CoversExactly);
        await ensemble.FitAsync(_data.Module(), Path.Combine(_work, "run"));
        var export = Path.Combine(_work, "export");
        var reports = new System.Collections.Generic.List<EnsembleProgress>();
        var result = EnsembleExporter.Export(
            ensemble.Predictor!,
            export,
            new ExportOptions { ExternalDataAboveBytes = 0 },
            new SyncProgress<EnsembleProgress>(reports.Add)
        );

        // One step per position (3×3 here), then one when the files are written.
        Assert.Equal(Enumerable.Range(1, 10), reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal((EnsembleStage.Exporting, 10), (r.Stage, r.Total)));
        Assert.True(
            result.ExternalDataBytes > result.ModelBytes,
            $"{result.ExternalDataBytes} bytes external, {result.ModelBytes} in the model"
        );
        Assert.True(File.Exists(Path.Combine(export, EnsembleExporter.DataFile)));

        using var deployed = DeployedEnsemble.Load(export);
        Assert.Equal(0.5, deployed.PixelThreshold);
        foreach (var sample in _data.Module().Test.Take(6))
        {
            using var expected = ensemble.Predict(sample.ImagePath);
            ExportComparison.AssertEqual(
                expected,
                deployed.Predict(sample.ImagePath),
                deployed.PixelThreshold,
                deployed.ImageThreshold,
                sample.ImagePath
            );
        }

        // Threads that sleep instead of spinning while they wait compute the same.
        using var sleeping = DeployedEnsemble.Load(export, new DeploymentOptions { AllowSpinning = false });
        var first = _data.Module().Test.First().ImagePath;
        using (var expected = ensemble.Predict(first))
        {
            ExportComparison.AssertEqual(
                expected,
                sleeping.Predict(first),
                sleeping.PixelThreshold,
                sleeping.ImageThreshold,
                first
            );
        }

        // Images of another size are resized to the image size and their maps brought back, as the run does.
        using var image = TestTensors.Rand(new long[] { 3, 90, 150 }, 3);
        using var fromTensor = ensemble.Predict(image).Single();
        var pixels = image.data<float>().ToArray();
        ExportComparison.AssertEqual(
            fromTensor,
            deployed.Predict(new DeployedImage(pixels, 90, 150)),
            deployed.PixelThreshold,
            deployed.ImageThreshold,
            "random 90x150"
        );

        // A batch of images of different sizes gives each image what predicting it alone gives.
        var images = new[] { DeployedImage.FromFile(first), new DeployedImage(pixels, 90, 150) };
        var batch = deployed.Predict(images);
        Assert.Equal(2, batch.Count);
        for (int b = 0; b < images.Length; b++)
        {
            var alone = deployed.Predict(images[b]);
            Assert.Equal((alone.Height, alone.Width), (batch[b].Height, batch[b].Width));
            // A batch may take other kernel paths than one image: equal within float32 rounding, not bit for bit.
            var map = alone.AnomalyMap;
            float tolerance = 1e-5f * (map.Max() - map.Min() + 1f);
            double threshold = deployed.PixelThreshold!.Value;
            for (int i = 0; i < map.Length; i++)
            {
                Assert.InRange(batch[b].AnomalyMap[i], map[i] - tolerance, map[i] + tolerance);
                if (Math.Abs(map[i] - threshold) > tolerance)
                {
                    Assert.Equal(alone.Mask[i], batch[b].Mask[i]);
                }
            }

            Assert.Equal(alone.Score, batch[b].Score, 1e-5);
            Assert.Equal(alone.Label, batch[b].Label);
        }
    }

    [Fact]
    public async Task AChangedGraphOrManifestIsRefusedNamingTheFile()
    {
        using var ensemble = Small().WithImageSize(64).WithTiling(32, 32).Build();
        await ensemble.FitAsync(_data.Module(), Path.Combine(_work, "small"));
        var export = Path.Combine(_work, "small-export");
        EnsembleExporter.Export(ensemble.Predictor!, export);
        DeployedEnsemble.Load(export).Dispose();

        var model = Path.Combine(export, EnsembleExporter.ModelFile);
        var bytes = File.ReadAllBytes(model);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(model, bytes);
        var changed = Assert.Throws<DeploymentException>(() => DeployedEnsemble.Load(export));
        Assert.Equal(model, changed.FilePath);
        Assert.Contains("SHA-256", changed.Message);

        var manifest = Path.Combine(export, "manifest.json");
        File.WriteAllText(
            manifest,
            File.ReadAllText(manifest).Replace("\"Normalized\": true", "\"Normalized\": false")
        );
        Assert.Contains("checksum", Assert.Throws<DeploymentException>(() => DeployedEnsemble.Load(export)).Message);
        Assert.Contains(
            "not an exported ensemble",
            Assert.Throws<DeploymentException>(() => DeployedEnsemble.Load(_work)).Message
        );
    }

    [Fact]
    public async Task StagesWithoutAnOnnxFormAreRefusedByNameBeforeAnythingIsWritten()
    {
        using var ensemble = Small().WithImageSize(64).WithTiling(32, 32).WithJoiner(new MaxJoiner()).Build();
        await ensemble.FitAsync(_data.Module(), Path.Combine(_work, "custom"));
        var export = Path.Combine(_work, "custom-export");
        var error = Assert.Throws<NotSupportedException>(() => EnsembleExporter.Export(ensemble.Predictor!, export));
        Assert.Contains("joiner 'samples.max_joiner'", error.Message);
        Assert.False(Directory.Exists(export));

        // A folder that is not empty is refused, and left as it was.
        using var plain = Small().WithImageSize(64).WithTiling(32, 32).Build();
        await plain.FitAsync(_data.Module(), Path.Combine(_work, "plain"));
        Directory.CreateDirectory(export);
        File.WriteAllText(Path.Combine(export, "keep.txt"), "mine");
        Assert.Throws<IOException>(() => EnsembleExporter.Export(plain.Predictor!, export));
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFiles(export).Select(Path.GetFileName));
    }
}
