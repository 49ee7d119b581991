using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TiledEnsemble.Configuration;
using TiledEnsemble.DependencyInjection;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

public class ConfigurationTests
{
    [Fact]
    public void BuilderProducesImmutableValidatedSettings()
    {
        var builder = TiledEnsembleBuilder
            .Create()
            .WithImageSize(512, 256)
            .WithTiling(tileSize: (128, 64), stride: (64, 32))
            .WithModel(ModelKind.Patchcore, m => m.CoresetSamplingRatio = 0.2)
            .WithNormalization(Stage.Tile)
            .WithThresholding(ThresholdMethod.F1Adaptive, Stage.Tile)
            .WithoutSeamSmoothing()
            .WithSeed(7);
        using var ensemble = builder.Build();
        var settings = ensemble.Settings;
        Assert.Equal((512, 256), (settings.ImageSize.Height, settings.ImageSize.Width));
        Assert.Equal("resnet18", settings.Backbone); // the default of every model: the backbone with ImageNet weights
        Assert.True(settings.PreTrained);
        Assert.Equal(new[] { "layer2", "layer3" }, settings.Layers);
        Assert.Equal(0.2, settings.CoresetSamplingRatio);
        Assert.False(settings.SeamSmoothing);
        Assert.Equal(7 * 7, ensemble.Grid.Count);

        // Changing the builder afterwards does not change what was built.
        builder.WithSeed(8);
        Assert.Equal(7, ensemble.Settings.Seed);
    }

    [Fact]
    public void InvalidSettingsListEveryProblem()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(100)
                .WithTiling(tileSize: 128, stride: 256)
                .WithNormalization(Stage.Image)
                .WithThresholding(ThresholdMethod.F1Adaptive, Stage.Tile)
                .WithDevice("tpu")
                .WithModel(ModelKind.FastFlow, m => m.MaxEpochs = -3)
                .Build()
        );
        var all = string.Join("\n", error.Failures);
        Assert.Contains("Stride (256x256) must not exceed the tile (128x128)", all);
        Assert.Contains("must fit in the image (100x100)", all);
        Assert.Contains("ThresholdingStage Tile needs NormalizationStage Tile or None", all);
        Assert.Contains("'tpu'", all);
        Assert.Contains("MaxEpochs must be at least 1; got -3", all);
        Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder.Create().WithManualThresholds(0.5, 1.5, normalized: true).Build()
        );
        Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder.Create().WithBackboneWeights("/no/such/file.safetensors").Build()
        );
    }

    [Fact]
    public void OptionsBindFromConfigurationAndRegisterInDependencyInjection()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(
                new Dictionary<string, string?>
                {
                    ["TiledEnsemble:ImageHeight"] = "128",
                    ["TiledEnsemble:ImageWidth"] = "128",
                    ["TiledEnsemble:TileHeight"] = "64",
                    ["TiledEnsemble:TileWidth"] = "64",
                    ["TiledEnsemble:StrideHeight"] = "32",
                    ["TiledEnsemble:StrideWidth"] = "32",
                    ["TiledEnsemble:Model"] = "Padim",
                    ["TiledEnsemble:ModelSettings:NFeatures"] = "20",
                    ["TiledEnsemble:SeamSmoothing:Sigma"] = "3",
                }
            )
            .Build();
        using var services = new ServiceCollection()
            .AddTiledEnsemble(configuration.GetSection("TiledEnsemble"))
            .BuildServiceProvider();
        using var ensemble = services.GetRequiredService<IEnsembleFactory>().Create();
        Assert.Equal(9, ensemble.Grid.Count);
        Assert.Equal(20, ensemble.Settings.NFeatures);
        Assert.Equal(3, ensemble.Settings.SeamSigma);

        var bad = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["TiledEnsemble:TileHeight"] = "999" })
            .Build();
        using var badServices = new ServiceCollection()
            .AddTiledEnsemble(bad.GetSection("TiledEnsemble"))
            .BuildServiceProvider();
        var failure = Assert.Throws<OptionsValidationException>(() =>
            badServices.GetRequiredService<IOptions<TiledEnsembleOptions>>().Value
        );
        Assert.Contains(failure.Failures, f => f.Contains("must fit in the image"));

        var typo = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["TiledEnsemble:TileHieght"] = "64" })
            .Build();
        using var typoServices = new ServiceCollection()
            .AddTiledEnsemble(typo.GetSection("TiledEnsemble"))
            .BuildServiceProvider();
        var typoError = Assert.Throws<InvalidOperationException>(() =>
            typoServices.GetRequiredService<IOptions<TiledEnsembleOptions>>().Value
        );
        Assert.Contains("TileHieght", typoError.Message);
    }

    [Fact]
    public void UntrainedEnsembleRefusesToPredict()
    {
        using var disposeScope = NewDisposeScope();
        using var ensemble = TiledEnsembleBuilder.Create().Build();
        Assert.Contains(
            "not trained",
            Assert
                .Throws<InvalidOperationException>(() => ensemble.Predict(TorchSharp.torch.zeros(3, 256, 256)))
                .Message
        );
    }
}
