using System;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Tests.Training;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Testing;
using TiledEnsemble.Tests;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Backbones;

public class BatchNormalization2dTests
{
    [Fact]
    public void TrainingStepNormalizesByTheBatchAndUpdatesTheRunningStatisticsAsPyTorchDoes()
    {
        using var scope = NewDisposeScope();
        using var norm = new BatchNormalization2d(3, eps: 1e-5, momentum: 0.25);
        using var generator = new Generator(7);
        var input = rand(new long[] { 2, 3, 4, 5 }, generator: generator);
        using (no_grad())
        {
            norm.weight.copy_(tensor(new[] { 1.5f, -0.5f, 2.0f }));
            norm.bias!.copy_(tensor(new[] { 0.1f, 0.2f, -0.3f }));
        }

        // The reference in double precision from the same float32 values.
        var x = input.data<float>().Select(v => (double)v).ToArray();
        var output = norm.forward(input).data<float>().ToArray();
        var runningMean = norm.running_mean!.data<float>().ToArray();
        var runningVar = norm.running_var!.data<float>().ToArray();
        double[] gamma =  { 1.5f, -0.5f, 2.0f },
            beta =  { 0.1f, 0.2f, -0.3f };
        for (int c = 0; c < 3; c++)
        {
            // The channel's 40 values (2 images × 4 × 5), its mean, biased variance (normalization) and unbiased one
            // (running).
            var values = Enumerable
                .Range(0, 2)
                .SelectMany(n => Enumerable.Range(0, 20).Select(i => (n * 60) + (c * 20) + i))
                .ToArray();
            double mean = values.Average(i => x[i]);
            double squares = values.Sum(i => (x[i] - mean) * (x[i] - mean));
            foreach (int i in values)
            {
                Assert.Equal((gamma[c] * (x[i] - mean) / Math.Sqrt((squares / 40) + 1e-5)) + beta[c], output[i], 2e-5);
            }

            Assert.Equal(0.25 * mean, runningMean[c], 1e-6);
            Assert.Equal((0.75 * 1) + (0.25 * squares / 39), runningVar[c], 1e-6);
        }

        Assert.Equal(1L, norm.num_batches_tracked!.item<long>());
        norm.forward(input);
        Assert.Equal(2L, norm.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void EvaluationUsesTheRunningStatisticsAndCountsNothing()
    {
        using var scope = NewDisposeScope();
        using var norm = new BatchNormalization2d(2);
        using (no_grad())
        {
            norm.running_mean!.copy_(tensor(new[] { 1f, -2f }));
            norm.running_var!.copy_(tensor(new[] { 4f, 0.25f }));
        }

        norm.eval();
        var input = TestTensors.Full(new long[] { 1, 2, 1, 1 }, 3.0);
        var output = norm.forward(input).data<float>().ToArray();
        Assert.Equal((3 - 1) / Math.Sqrt(4 + 1e-5), output[0], 5);
        Assert.Equal((3 + 2) / Math.Sqrt(0.25 + 1e-5), output[1], 4);
        Assert.Equal(0L, norm.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void WithoutMomentumTheRunningMeanIsTheAverageOfTheBatchMeans()
    {
        using var scope = NewDisposeScope();
        using var norm = new BatchNormalization2d(1) { momentum = null };
        norm.forward(TestTensors.Full(new long[] { 2, 1, 1, 1 }, 2.0));
        norm.forward(TestTensors.Full(new long[] { 2, 1, 1, 1 }, 6.0));
        Assert.Equal(4.0, norm.running_mean!.item<float>(), 5);
    }

    [Fact]
    public void AnInputThatIsNotFourDimensionalIsRefusedWithItsShape()
    {
        using var scope = NewDisposeScope();
        using var norm = new BatchNormalization2d(3);
        var error = Assert.Throws<ArgumentException>(() => norm.forward(zeros(2, 3)));
        Assert.Contains("4-D", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void StateDictNamesAreTorchSharpsBatchNorm2dNames()
    {
        using var ours = new BatchNormalization2d(4);
        using var theirs = nn.BatchNorm2d(4);
        Assert.Equal(theirs.state_dict().Keys.OrderBy(k => k), ours.state_dict().Keys.OrderBy(k => k));
    }

    /// <summary>
    /// TE0001 sees calls it can name; a container's forward (Sequential, a network's blocks) reaches its children's
    /// forward without naming them, so the modules the models are built of are checked here against TorchSharp's IL.
    /// </summary>
    [Fact]
    public void NoModuleOfTheModelsRunsAForwardThatDropsAScalar()
    {
        using var scope = NewDisposeScope();
        Assert.True(
            ScalarTemporaryScan.HasUnsafeForward(nn.BatchNorm2d(4)),
            "The scan no longer sees TorchSharp's BatchNorm.forward add an implicit 1; the check below would prove "
                + "nothing."
        );

        using var backbone = ResNet.Create(BackboneKind.ResNet18, 3);
        var training = new TrainingOptions { MaxEpochs = 1 };
        long inPlanes = 16;
        var modules = backbone
            .modules()
            .Concat(
                new[] { ModelKind.FastFlow, ModelKind.Stfpm, ModelKind.ReverseDistillation }.SelectMany(kind =>
                    TrainedModels.Create(kind, backbone, training).Network.modules()
                )
            )
            .Concat(new Bottleneck("0", 16, 8, 2, 64).modules())
            .Concat(DecoderLayers.Make(BackboneKind.WideResNet50, ref inPlanes, 8, 2, 2).modules())
            .ToList();
        Assert.Contains(modules, m => m is BatchNormalization2d);
        var unsafeModules = modules
            .Where(ScalarTemporaryScan.HasUnsafeForward)
            .Select(m => m.GetType().FullName)
            .Distinct()
            .ToList();
        Assert.True(
            unsafeModules.Count == 0,
            "Modules whose forward drops a temporary Scalar: " + string.Join(", ", unsafeModules)
        );
    }
}
