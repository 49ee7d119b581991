using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Stfpm;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Tiling;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Training;

public class WideResNetModelsTests
{
    /// <summary>
    /// Every model on Wide-ResNet-50-2 (Patchcore's default, whose 1×1 convolutions crashed libtorch on AMD Zen 5)
    /// fits and predicts finite maps of the input size, with batches of 1 and of 3.
    /// </summary>
    [Theory]
    [InlineData(ModelKind.Padim)]
    [InlineData(ModelKind.Patchcore)]
    [InlineData(ModelKind.FastFlow)]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.ReverseDistillation)]
    public void EveryModelTrainsAndPredictsOnWideResNet50(ModelKind kind)
    {
        const int size = 32;
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.WideResNet50, 5);
        var training = new TrainingOptions { MaxEpochs = 1, Patience = null };
        const string wide = "wide_resnet50_2";
        using IAnomalyModel model = kind switch
        {
            ModelKind.Padim => new PadimModel(backbone, new PadimOptions { Backbone = wide, NFeatures = 20 }),
            ModelKind.Patchcore => new PatchcoreModel(backbone, new PatchcoreOptions { Backbone = wide }),
            ModelKind.FastFlow => new FastflowModel(
                backbone,
                new FastflowOptions
                {
                    Backbone = wide,
                    InputSize = new Size2D(size, size),
                    FlowSteps = 1,
                    Training = training,
                }
            ),
            ModelKind.Stfpm => new StfpmModel(backbone, new StfpmOptions { Backbone = wide, Training = training }),
            _ => new ReverseDistillationModel(
                backbone,
                new ReverseDistillationOptions { Backbone = wide, Training = training }
            ),
        };
        model.Fit(TextureSet.Batches(TextureSet.Normals(4, size), 3));
        foreach (var count in new[] { 1, 3 })
        {
            using var prediction = model.Predict(TextureSet.Defective(count, size));
            Assert.Equal(new long[] { count, 1, size, size }, prediction.AnomalyMaps.shape);
            Assert.True(prediction.AnomalyMaps.isfinite().all().item<bool>(), $"{kind}: non-finite map values");
            Assert.True(prediction.Scores.isfinite().all().item<bool>(), $"{kind}: non-finite scores");
        }
    }
}
