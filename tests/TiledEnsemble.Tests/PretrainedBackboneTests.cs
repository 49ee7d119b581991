using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Options;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Pretrained;
using TiledEnsemble.Persistence;
using TiledEnsemble.Serialization;
using Xunit;

namespace TiledEnsemble.Tests;

public sealed class PretrainedBackboneTests : System.IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("pretrained-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task ByDefaultARunStartsFromTheImageNetResNet18AndRecordsWhereItCameFrom()
    {
        using var data = new GeneratedData();
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(64, 64)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 20)
            .WithBatchSizes(8, 8)
            .Build();
        var run = Path.Combine(_runs, "run");
        await ensemble.FitAsync(data.Module(), run);

        var manifest = RunStore.ReadManifest(run);
        Assert.StartsWith(
            $"pretrained:{PretrainedBackbones.PackageId}:{PretrainedBackbones.ResNet18File} sha256:",
            manifest.BackboneSource
        );
        Assert.Contains(CntkResNet18.PackageId, manifest.BackboneProvenance!["source"]);
        Assert.Equal(64, manifest.BackboneProvenance["source_sha256"].Length);

        AssertTheRunIsSelfContained(run, manifest);
    }

    /// <summary>Tensor work outside the async test method (dispose scopes are per thread).</summary>
    private static void AssertTheRunIsSelfContained(string run, RunManifest manifest)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();

        // The run's own copy of the backbone carries the provenance and equals the shipped weights, up to layer3 only.
        var (saved, metadata) = SafeTensors.Load(Path.Combine(run, "backbone.safetensors"));
        var (shipped, _) = SafeTensors.Load(PretrainedBackbones.Find(BackboneKind.ResNet18)!);
        Assert.Equal(manifest.BackboneSource, metadata["backbone_source"]);
        Assert.DoesNotContain(saved.Keys, k => k.StartsWith("layer4."));
        Assert.All(shipped, s => Assert.True(saved[s.Key].eq(s.Value).all().item<bool>(), s.Key));

        // Another process needs nothing but the run: loading rebuilds the layer3-deep backbone from it.
        using var reopened = Ensemble.Load(run);
        var prediction = reopened.Predict(TorchSharp.torch.rand(1, 3, 64, 64))[0];
        Assert.True(prediction.Score >= 0);
        prediction.Dispose();
    }

    [Fact]
    public void WithoutWeightsForTheBackboneBuildFailsNamingWhatToDo()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(64)
                .WithTiling(64, 64)
                .WithModel(ModelKind.Patchcore, m => m.Backbone = "wide_resnet50_2")
                .Build()
        );
        Assert.Contains("No ImageNet weights for wide_resnet50_2", error.Message);
        Assert.Contains("pre_trained: false", error.Message);

        // Turned off, or with a file given, it builds.
        using var random = TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(64, 64)
            .WithModel(ModelKind.Patchcore, m => m.Backbone = "wide_resnet50_2")
            .WithPretrainedBackbone(false)
            .Build();
        Assert.False(random.Settings.PreTrained);

        // The ResNet-18 message names the package to add.
        var missing = Assert.Throws<FileNotFoundException>(() =>
            PretrainedBackbones.Require(BackboneKind.WideResNet50)
        );
        Assert.Contains(PretrainedBackbones.PackageId, missing.Message);
    }

    [Fact]
    public void LayerFourIsRefusedWithThePretrainedBackbone()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(64)
                .WithTiling(64, 64)
                .WithModel(ModelKind.Padim, m => m.Layers = new() { "layer3", "layer4" })
                .Build()
        );
        Assert.Contains("up to layer3", error.Message);
    }
}
