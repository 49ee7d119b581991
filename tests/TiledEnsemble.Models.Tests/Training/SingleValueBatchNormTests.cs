using System;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Training;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Training;

public class SingleValueBatchNormTests
{
    [Fact]
    public void ALastBatchOfOneSmallTileIsSkippedSoTheBottleneckStatisticsStayFinite()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 3);
        using var model = new ReverseDistillationModel(
            backbone,
            new ReverseDistillationOptions
            {
                Backbone = "resnet18",
                Training = new TrainingOptions { MaxEpochs = 1, Patience = null },
            }
        );

        // 4 tiles of 32 px in batches of 3: the second batch holds one tile, whose 1×1 bottleneck map has one value
        // per channel.
        var summary = model.Train(() => TextureSet.Batches(TextureSet.Normals(4, 32), 3));
        Assert.Equal(1, summary.Steps);
        Assert.All(model.Network.named_buffers().Where(b => b.name.Contains("running_")), b =>
            Assert.True(b.buffer.isfinite().all().item<bool>(), $"{b.name} is not finite")
        );
        using var prediction = model.Predict(TextureSet.Defective(1, 32));
        Assert.True(prediction.AnomalyMaps.isfinite().all().item<bool>());
    }

    [Fact]
    public void OnlyBatchesOfOneSmallTileIsAClearError()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 3);
        using var model = new ReverseDistillationModel(
            backbone,
            new ReverseDistillationOptions
            {
                Backbone = "resnet18",
                Training = new TrainingOptions { MaxEpochs = 1, Patience = null },
            }
        );
        var error = Assert.Throws<InvalidOperationException>(() =>
            model.Train(() => TextureSet.Batches(TextureSet.Normals(2, 32), 1))
        );
        Assert.Contains("one 32×32 image", error.Message);
        Assert.Contains("at least 2 images", error.Message);

        // At 64 px the bottleneck map is 2×2: one image per batch trains.
        Assert.Equal(2, model.Train(() => TextureSet.Batches(TextureSet.Normals(2, 64), 1)).Steps);

        // Sides that are not multiples of 32 cannot be decoded back to the encoder's sizes: refused by name.
        var size = Assert.Throws<ArgumentException>(() =>
            model.Train(() => TextureSet.Batches(TextureSet.Normals(2, 40), 2))
        );
        Assert.Contains("multiples of 32; got 40×40", size.Message);
    }
}
