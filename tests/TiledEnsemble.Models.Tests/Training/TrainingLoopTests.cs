using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Metrics;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Training;

/// <summary>The epoch loop, on STFPM (the fastest of the three).</summary>
public class TrainingLoopTests
{
    [Fact]
    public void EarlyStoppingStopsAfterPatienceChecksAndKeepsTheBestWeights()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(
            ModelKind.Stfpm,
            backbone,
            new TrainingOptions
            {
                MaxEpochs = 40,
                Patience = 2,
                Monitor = TrainingMetric.ImageAuroc,
            }
        );
        var train = TextureSet.Normals(8, TrainedModels.Size);
        var validation = Validation();
        var recorder = new ProgressRecorder();
        var summary = model.Train(() => TextureSet.Batches(train, 8), () => new[] { validation }, recorder);

        var metrics = recorder.Reports.Where(r => r.Metric is not null).Select(r => r.Metric!.Value).ToList();
        Assert.Equal(summary.Epochs, metrics.Count);

        // Independent replay of the rule: best = first maximum; stop once `patience` checks in a row bring no gain.
        int best = 0,
            without = 0,
            stopAt = metrics.Count;
        for (int i = 1; i < metrics.Count; i++)
        {
            if (metrics[i] > metrics[best])
            {
                best = i;
                without = 0;
            }
            else if (++without == 2)
            {
                stopAt = i + 1;
                break;
            }
        }

        Assert.True(summary.StoppedEarly, $"metrics {string.Join(", ", metrics)}");
        Assert.Equal(stopAt, summary.Epochs);
        Assert.Equal(best + 1, summary.BestEpoch);
        Assert.Equal(metrics[best], summary.BestMetric);

        // The weights in place are the best epoch's: predicting again gives the best metric, not the last one.
        using var prediction = model.Predict(validation.Images);
        Assert.Equal(metrics[best], AnomalyMetrics.Auroc(prediction.Scores, validation.Labels), 9);
    }

    [Fact]
    public void AValidationWithoutDefectPixelsNeitherStopsEarlyNorRestoresTheFirstEpoch()
    {
        // A tile position whose validation tiles hold no defect pixel: pixel AUROC is undefined at every check.
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        var train = TextureSet.Normals(4, TrainedModels.Size);
        var normals = TextureSet.Normals(4, TrainedModels.Size, offset: 60);
        var validation = new ValidationBatch(
            normals,
            zeros(4, dtype: ScalarType.Int64),
            zeros(4, 1, TrainedModels.Size, TrainedModels.Size)
        );
        var options = new TrainingOptions
        {
            MaxEpochs = 3,
            Patience = 1,
            Monitor = TrainingMetric.PixelAuroc,
            Seed = 5,
        };
        using var validated = TrainedModels.Create(ModelKind.Stfpm, backbone, options);
        var summary = validated.Train(() => TextureSet.Batches(train, 2), () => new[] { validation });
        using var unvalidated = TrainedModels.Create(ModelKind.Stfpm, backbone, options);
        unvalidated.Train(() => TextureSet.Batches(train, 2));

        Assert.Equal(3, summary.Epochs);
        Assert.False(summary.StoppedEarly);
        Assert.Equal(3, summary.BestEpoch);
        Assert.Null(summary.BestMetric);

        // The weights in place are the last epoch's: the same as the same seed trained without validation.
        using var expected = unvalidated.Predict(normals);
        using var actual = validated.Predict(normals);
        Assert.True(
            actual.AnomalyMaps.allclose(expected.AnomalyMaps, rtol: 0, atol: 1e-6),
            "the maps differ from those of the last epoch"
        );
    }

    [Fact]
    public void TheGoodImageLossChoosesTheEpochOnGoodValidationImagesAloneAndKeepsItsWeights()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        var options = new TrainingOptions
        {
            MaxEpochs = 5,
            Patience = 2,
            Monitor = TrainingMetric.GoodImageLoss,
            Seed = 7,
        };
        var train = TextureSet.Normals(4, TrainedModels.Size);
        var mixed = Validation();
        var good = mixed.Images.narrow(0, 0, 4);
        var goodOnly = new ValidationBatch(
            good,
            zeros(4, dtype: ScalarType.Int64),
            zeros(4, 1, TrainedModels.Size, TrainedModels.Size)
        );

        using var withDefects = TrainedModels.Create(ModelKind.Stfpm, backbone, options);
        var recorder = new ProgressRecorder();
        var summary = withDefects.Train(() => TextureSet.Batches(train, 2), () => new[] { mixed }, recorder);
        using var withoutDefects = TrainedModels.Create(ModelKind.Stfpm, backbone, options);
        var goodRecorder = new ProgressRecorder();
        withoutDefects.Train(() => TextureSet.Batches(train, 2), () => new[] { goodOnly }, goodRecorder);

        // The defective images of the validation set are left out: the same seed validated on the good ones alone
        // watches the same values.
        var metrics = Metrics(recorder);
        Assert.Equal(Metrics(goodRecorder), metrics);
        Assert.All(metrics, m => Assert.True(m < 0, $"a negated loss is negative; got {m}"));
        int best = metrics.IndexOf(metrics.Max());
        Assert.Equal(best + 1, summary.BestEpoch);
        Assert.Equal(metrics[best], summary.BestMetric);

        // The weights in place are the best epoch's (restoring them is tested with the AUROC monitor above): the value
        // watched, negated, is their loss per good image, computed again here one image at a time in evaluation mode
        // and averaged (STFPM's training loss sums over its batch; a mean per image does not depend on the batch).
        double loss = 0;
        using (no_grad())
        {
            for (int i = 0; i < 4; i++)
            {
                using var value = withDefects.Loss(good.narrow(0, i, 1));
                loss += value.item<float>() / 4;
            }
        }

        Assert.Equal(-metrics[best], loss, 1e-5 * Math.Abs(loss));
    }

    [Fact]
    public void CancellationStopsAfterTheCurrentStepAndLeavesAUsableModel()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(
            ModelKind.Stfpm,
            backbone,
            new TrainingOptions { MaxEpochs = 50, Patience = null }
        );
        var train = TextureSet.Normals(8, TrainedModels.Size);
        using var cancellation = new CancellationTokenSource();
        var recorder = new ProgressRecorder(r =>
        {
            if (r.Epoch == 1 && r.Step == 3)
            {
                cancellation.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            model.Train(() => TextureSet.Batches(train, 2), null, recorder, cancellation.Token)
        );
        Assert.Equal(3, recorder.Reports.Count);
        Assert.True(model.IsFitted);
        using var prediction = model.Predict(train.narrow(0, 0, 2));
        Assert.True(prediction.Scores.isfinite().all().item<bool>());
    }

    [Fact]
    public void CancellationBeforeAnyStepLeavesTheModelUntrained()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(ModelKind.Stfpm, backbone, new TrainingOptions { MaxEpochs = 2 });
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            model.Train(
                () => TextureSet.Batches(TextureSet.Normals(2, TrainedModels.Size), 2),
                cancellationToken: cancellation.Token
            )
        );
        Assert.False(model.IsFitted);
        Assert.Throws<InvalidOperationException>(() => model.Predict(TextureSet.Normals(1, TrainedModels.Size)));
    }

    [Theory]
    [InlineData(ModelKind.Stfpm)]
    [InlineData(ModelKind.FastFlow)]
    public void ABrokenLearningRateStopsWithAnErrorNamingModelEpochAndStep(ModelKind kind)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(
            kind,
            backbone,
            new TrainingOptions
            {
                MaxEpochs = 20,
                Patience = null,
                LearningRate = 1e30,
            }
        );
        var train = TextureSet.Normals(4, TrainedModels.Size);
        var error = Assert.Throws<TrainingDivergedException>(() => model.Train(() => TextureSet.Batches(train, 2)));
        Assert.Contains(kind == ModelKind.Stfpm ? "Stfpm" : "FastFlow", error.Message);
        Assert.Contains($"epoch {error.Epoch}, step {error.Step}", error.Message);
        Assert.True(error.Epoch >= 1 && error.Step >= 1);
        Assert.False(model.IsFitted);
    }

    [Fact]
    public void TrainingIsDeterministicForASeed()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        var train = TextureSet.Normals(4, TrainedModels.Size);
        List<double> Losses()
        {
            using var model = TrainedModels.Create(
                ModelKind.FastFlow,
                backbone,
                new TrainingOptions
                {
                    MaxEpochs = 2,
                    Patience = null,
                    Seed = 5,
                }
            );
            var recorder = new ProgressRecorder();
            model.Train(() => TextureSet.Batches(train, 2), progress: recorder);
            return recorder.Reports.Select(r => r.Loss).ToList();
        }

        Assert.Equal(Losses(), Losses());
    }

    [Fact]
    public void OptionsOutOfRangeAreRefusedByName()
    {
        Assert.Contains(
            "MaxEpochs",
            Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { MaxEpochs = 0 }.Validate()).Message
        );
        Assert.Contains(
            "Patience",
            Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { Patience = 0 }.Validate()).Message
        );
        Assert.Contains(
            "LearningRate",
            Assert
                .Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { LearningRate = double.NaN }.Validate())
                .Message
        );
        Assert.Contains(
            "ValidationInterval",
            Assert
                .Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { ValidationInterval = 0 }.Validate())
                .Message
        );
    }

    [Fact]
    public void AnEmptyTrainingStreamIsAnError()
    {
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = TrainedModels.Create(ModelKind.Stfpm, backbone, new TrainingOptions { MaxEpochs = 1 });
        Assert.Contains(
            "empty",
            Assert.Throws<InvalidOperationException>(() => model.Train(() => Array.Empty<Tensor>())).Message
        );
    }

    private static List<double> Metrics(ProgressRecorder recorder) =>
        recorder.Reports.Where(r => r.Metric is not null).Select(r => r.Metric!.Value).ToList();

    private static ValidationBatch Validation()
    {
        var normals = TextureSet.Normals(4, TrainedModels.Size, offset: 60);
        var (defective, masks) = TextureSet.DefectiveWithMasks(4, TrainedModels.Size);
        var images = cat(new[] { normals, defective });
        var labels = cat(new[] { zeros(4, dtype: ScalarType.Int64), ones(4, dtype: ScalarType.Int64) });
        var allMasks = cat(
            new[] { zeros(4, 1, TrainedModels.Size, TrainedModels.Size), masks.to_type(ScalarType.Float32) }
        );
        return new ValidationBatch(images, labels, allMasks);
    }
}
