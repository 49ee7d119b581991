using System;
using Microsoft.Extensions.Options;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.ReverseDistillation;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Composition;

/// <summary>Every model option is reachable through the settings; unset ones take the model's own default.</summary>
public sealed class ModelOptionsTests : IDisposable
{
    private readonly ResNet _backbone = ResNet.Create(BackboneKind.ResNet18, 1);

    public void Dispose() => _backbone.Dispose();

    private IAnomalyModel Make(ModelKind kind, Action<Configuration.ModelSettings> configure)
    {
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(32, 32)
            .WithPretrainedBackbone(false)
            .WithModel(kind, configure)
            .Build();
        return ensemble.Definition.Model.Create(
            new ModelContext(_backbone, CPU, ensemble.Grid.Positions[0], ensemble.Settings)
        );
    }

    [Fact]
    public void ModelOptionsSetInTheSettingsReachEachModelAndUnsetOnesKeepTheModelsDefault()
    {
        using (var padim = (PadimModel)Make(ModelKind.Padim, m => m.BlurSigma = 2.5))
        {
            Assert.Equal(2.5, padim.Options.BlurSigma);
        }

        using (var padim = (PadimModel)Make(ModelKind.Padim, _ => { }))
        {
            Assert.Equal(new PadimOptions().BlurSigma, padim.Options.BlurSigma);
        }

        using (var patchcore = (PatchcoreModel)Make(ModelKind.Patchcore, m =>
            {
                m.BlurSigma = 3;
                m.ProjectionDimension = 64;
                m.DistanceChunkSize = 128;
                m.NumNeighbors = 3;
            }))
        {
            Assert.Equal(
                (3.0, 64, 128, 3),
                (
                    patchcore.Options.BlurSigma,
                    patchcore.Options.ProjectionDimension!.Value,
                    patchcore.Options.DistanceChunkSize,
                    patchcore.Options.NumNeighbors
                )
            );
        }

        using (var fastflow = (FastflowModel)Make(ModelKind.FastFlow, m =>
            {
                m.HiddenRatio = 0.5;
                m.Conv3x3Only = true;
                m.FlowSteps = 2;
            }))
        {
            Assert.Equal(
                (0.5, true, 2),
                (fastflow.Options.HiddenRatio, fastflow.Options.Conv3x3Only, fastflow.Options.FlowSteps)
            );
        }

        using (var rd = (ReverseDistillationModel)Make(ModelKind.ReverseDistillation, m =>
            {
                m.MapMode = AnomalyMapMode.Multiply;
                m.BlurSigma = 1.5;
            }))
        {
            Assert.Equal((AnomalyMapMode.Multiply, 1.5), (rd.Options.MapMode, rd.Options.BlurSigma));
        }
    }

    [Fact]
    public void OutOfRangeModelOptionsAreRefusedByName()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(64)
                .WithTiling(32, 32)
                .WithModel(ModelKind.Patchcore, m =>
                {
                    m.BlurSigma = -1;
                    m.HiddenRatio = double.NaN;
                    m.ProjectionDimension = 0;
                    m.DistanceChunkSize = -5;
                    m.MapMode = (AnomalyMapMode)7;
                })
                .Build()
        );
        var all = string.Join("\n", error.Failures);
        Assert.Contains("BlurSigma must be a positive number of pixels; got -1", all);
        Assert.Contains("HiddenRatio must be a positive number; got NaN", all);
        Assert.Contains("ProjectionDimension must be at least 1; got 0", all);
        Assert.Contains("DistanceChunkSize must be at least 1; got -5", all);
        Assert.Contains("MapMode must be Add or Multiply; got 7", all);
    }

    [Fact]
    public void TheModelStageRecordsTheOptionsThatChangeItsResults()
    {
        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(32, 32)
            .WithPretrainedBackbone(false)
            .WithModel(ModelKind.ReverseDistillation, m => m.MapMode = AnomalyMapMode.Multiply)
            .Build();
        var identity = ensemble.Definition.Stages["model"];
        Assert.Equal("ReverseDistillation", identity.Name);
        Assert.Equal("Multiply", identity.Settings["anomaly_map_mode"]);
        Assert.Equal("4", identity.Settings["blur_sigma"]);
    }
}
