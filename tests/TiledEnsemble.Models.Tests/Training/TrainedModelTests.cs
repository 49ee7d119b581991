using System;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Training;

public class TrainedModelTests
{
    private readonly ITestOutputHelper _output;

    public TrainedModelTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.ReverseDistillation)]
    public void LossDecreasesAndADefectiveImageScoresAboveTheNormalOnes(ModelKind kind)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        // Reverse Distillation separates the textures more slowly on a random backbone: after 4 epochs the largest
        // defective and normal scores were within 0.005 of each other, which float rounding can swap.
        int epochs = kind == ModelKind.ReverseDistillation ? 8 : 4;
        using var model = TrainedModels.Create(
            kind,
            backbone,
            new TrainingOptions { MaxEpochs = epochs, Patience = null }
        );
        var train = TextureSet.Normals(16, TrainedModels.Size);
        var recorder = new ProgressRecorder();
        var summary = model.Train(() => TextureSet.Batches(train, 8), progress: recorder);

        Assert.Equal(epochs, summary.Epochs);
        Assert.Equal(2 * epochs, summary.Steps);
        var byEpoch = recorder.Reports.GroupBy(r => r.Epoch).Select(g => g.Average(r => r.Loss)).ToArray();
        _output.WriteLine($"{kind}: epoch losses {string.Join(", ", byEpoch.Select(l => l.ToString("G4")))}");
        Assert.True(byEpoch[^1] < byEpoch[0], $"{kind}: the loss did not decrease: {string.Join(", ", byEpoch)}");

        using var normal = model.Predict(TextureSet.Normals(4, TrainedModels.Size, offset: 50));
        using var defective = model.Predict(TextureSet.Defective(4, TrainedModels.Size));
        Assert.Equal(new long[] { 4, 1, TrainedModels.Size, TrainedModels.Size }, normal.AnomalyMaps.shape);
        var normalScores = normal.Scores.data<float>().ToArray();
        var defectiveScores = defective.Scores.data<float>().ToArray();
        _output.WriteLine(
            $"{kind}: normal {string.Join(", ", normalScores)}; defective {string.Join(", ", defectiveScores)}"
        );
        Assert.True(
            defectiveScores.Max() > normalScores.Max(),
            $"{kind}: no defective image scored above the normal ones"
        );
    }

    [Theory]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.ReverseDistillation)]
    public void AModelBuiltInsideADisposeScopeOutlivesIt(ModelKind kind)
    {
        // The ensemble loads models lazily, inside the dispose scope of a prediction; that scope ending must not take
        // the model's own tensors with it (it did for FastFlow's global scale and offset).
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 4);
        TrainedAnomalyModel model;
        using (var building = NewDisposeScope())
        {
            model = TrainedModels.Create(kind, backbone, new TrainingOptions { MaxEpochs = 1, Seed = 3 });
        }

        using (model)
        {
            using var scope = NewDisposeScope();
            model.Fit(TextureSet.Batches(TextureSet.Normals(2, TrainedModels.Size), 2));
            using var prediction = model.Predict(TextureSet.Normals(1, TrainedModels.Size, offset: 9));
            Assert.False(prediction.Scores.isnan().any().item<bool>());
        }
    }

    [Theory]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.ReverseDistillation)]
    public void SavedWeightsRestoreIdenticalPredictionsAndForeignOnesAreRejected(ModelKind kind)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var trained = TrainedModels.Create(
            kind,
            backbone,
            new TrainingOptions { MaxEpochs = 1, Patience = null }
        );
        trained.Fit(TextureSet.Batches(TextureSet.Normals(4, TrainedModels.Size), 4));
        using var state = trained.ExportState();

        using var restored = TrainedModels.Create(kind, backbone, new TrainingOptions { Seed = 7 });
        Assert.False(restored.IsFitted);
        restored.ImportState(state);
        var probe = TextureSet.Defective(2, TrainedModels.Size);
        using var a = trained.Predict(probe);
        using var b = restored.Predict(probe);
        Assert.Equal(0f, (a.AnomalyMaps - b.AnomalyMaps).abs().max().item<float>());

        // Weights of another architecture: every other model's state is refused, naming the problem.
        foreach (
            var other in new[] { ModelKind.FastFlow, ModelKind.Stfpm, ModelKind.ReverseDistillation }.Where(k =>
                k != kind
            )
        )
        {
            using var foreign = TrainedModels.Create(other, backbone, new TrainingOptions());
            var error = Assert.Throws<ArgumentException>(() => foreign.ImportState(state));
            Assert.Contains("state", error.Message);
        }

        // Same model, one tensor missing and one reshaped: the message lists them.
        var name = state.Tensors.Keys.First();
        var reshaped = state.Tensors.Keys.Last(k => state.Tensors[k].numel() > 1);
        var damagedTensors = state
            .Tensors.Where(p => p.Key != name)
            .ToDictionary(p => p.Key, p => p.Key == reshaped ? p.Value.reshape(1, -1) : p.Value);
        using var damaged = TrainedModels.Create(kind, backbone, new TrainingOptions());
        var message = Assert
            .Throws<ArgumentException>(() => damaged.ImportState(new ModelState(damagedTensors, state.Metadata)))
            .Message;
        _output.WriteLine(message);
        Assert.Contains(name, message);
        Assert.Contains(reshaped, message);
        Assert.False(damaged.IsFitted);
    }

    [Fact]
    public void FastflowSettingsMustMatchToLoad()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var trained = TrainedModels.Create(
            ModelKind.FastFlow,
            backbone,
            new TrainingOptions { MaxEpochs = 1 },
            flowSteps: 2
        );
        trained.Fit(TextureSet.Batches(TextureSet.Normals(4, TrainedModels.Size), 4));
        using var state = trained.ExportState();
        using var deeper = TrainedModels.Create(ModelKind.FastFlow, backbone, new TrainingOptions(), flowSteps: 4);
        var message = Assert.Throws<ArgumentException>(() => deeper.ImportState(state)).Message;
        Assert.Contains("flow_steps '2'", message);
        Assert.Contains("'4'", message);
    }
}

public class TrainedModelInputTests
{
    [Theory]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.ReverseDistillation)]
    public void BadInputsAreRefusedWithTheirShape(ModelKind kind)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(kind, backbone, new TrainingOptions { MaxEpochs = 1 });
        Assert.Throws<InvalidOperationException>(() => model.Predict(TextureSet.Normals(1, TrainedModels.Size)));
        Assert.Throws<InvalidOperationException>(() => model.ExportState());
        model.Fit(TextureSet.Batches(TextureSet.Normals(2, TrainedModels.Size), 2));

        Assert.Contains(
            "[3, 64, 64]",
            Assert.ThrowsAny<ArgumentException>(() => model.Predict(zeros(3, 64, 64))).Message
        );
        Assert.Contains(
            "3 channels",
            Assert.ThrowsAny<ArgumentException>(() => model.Predict(zeros(1, 1, 64, 64))).Message
        );
        Assert.Contains(
            "NaN",
            Assert
                .ThrowsAny<ArgumentException>(() =>
                    model.Predict(TiledEnsemble.Testing.TestTensors.Full(new long[] { 1, 3, 64, 64 }, double.NaN))
                )
                .Message
        );
        Assert.ThrowsAny<ArgumentException>(() => model.Predict(zeros(new long[] { 1, 3, 64, 64 }, ScalarType.Int64)));
        Assert.Throws<ArgumentNullException>(() => model.ImportState(null!));
        Assert.Throws<ArgumentNullException>(() => model.Fit(null!));
    }

    [Fact]
    public void FastflowRefusesAnotherInputSizeNamingBoth()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(ModelKind.FastFlow, backbone, new TrainingOptions { MaxEpochs = 1 });
        model.Fit(TextureSet.Batches(TextureSet.Normals(2, TrainedModels.Size), 2));
        var message = Assert.Throws<ArgumentException>(() => model.Predict(zeros(1, 3, 96, 96))).Message;
        Assert.Contains("64x64", message);
        Assert.Contains("96x96", message);
    }

    [Fact]
    public void OptionsNameTheirBadValues()
    {
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        Assert.Contains(
            "FlowSteps",
            Assert
                .ThrowsAny<ArgumentException>(() =>
                    new TiledEnsemble.Models.FastFlow.FastflowModel(
                        backbone,
                        new TiledEnsemble.Models.FastFlow.FastflowOptions
                        {
                            InputSize = new TiledEnsemble.Tiling.Size2D(64, 64),
                            FlowSteps = 0,
                        }
                    )
                )
                .Message
        );
        Assert.Contains(
            "layer1, layer2 and layer3",
            Assert
                .ThrowsAny<ArgumentException>(() =>
                    new TiledEnsemble.Models.ReverseDistillation.ReverseDistillationModel(
                        backbone,
                        new TiledEnsemble.Models.ReverseDistillation.ReverseDistillationOptions
                        {
                            Backbone = "resnet18",
                            Layers = new[] { "layer2" },
                        }
                    )
                )
                .Message
        );
        Assert.ThrowsAny<ArgumentException>(() =>
            new TiledEnsemble.Models.Stfpm.StfpmModel(
                backbone,
                new TiledEnsemble.Models.Stfpm.StfpmOptions { Backbone = "wide_resnet50_2" }
            )
        );
        Assert.Throws<ArgumentNullException>(() => new TiledEnsemble.Models.Stfpm.StfpmModel(null!));
    }
}
