using System;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Diagnostics;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Diagnostics;

public class ConvolutionSelfCheckTests
{
    /// <summary>
    /// Every convolution shape of both backbones (all four layers) at tile sizes 32, 64, 100, 128 and 256 (feature maps
    /// of odd sizes included), batch 1 and 3, channels-last and channels-first, every output value compared with the
    /// float64 reference. A CPU with a faulty kernel fails here, on the machine that has it.
    /// </summary>
    [Theory]
    [InlineData(BackboneKind.ResNet18)]
    [InlineData(BackboneKind.WideResNet50)]
    public void EveryConvolutionOfTheBackboneEqualsTheReferenceOnThisMachine(BackboneKind kind)
    {
        var report = ConvolutionSelfCheck.Run(
            new ConvolutionCheckOptions { Backbones = new[] { kind }, AllPositions = true }
        );
        Assert.True(
            report.Passed,
            string.Join(
                Environment.NewLine,
                report.Environment.Describe().Concat(report.Mismatches.Select(m => m.ToString()))
            )
        );
        int shapes = new[] { 32, 64, 100, 128, 256 }.Sum(tile =>
        {
            using var backbone = ResNet.Create(kind, 0);
            return BackboneConvolutions.For(backbone, tile, tile, 4).Count;
        });
        Assert.Equal(shapes * 2 * 2, report.Checked);
    }

    [Fact]
    public void ChannelsThatAConvolutionGetsWrongAreFoundAndNamed()
    {
        using var scope = NewDisposeScope();
        // ResNet-18's layer4.0.downsample at an 8×8 input, with the fault seen on Zen 5: channels 480 and up wrong.
        var shape = new ConvolutionShape(new[] { "layer4.0.downsample.0" }, 256, 512, 1, 2, 0, 8, 8);
        var faulty = Corrupted(y => y.narrow(1, 480, 32).add_(TestTensors.Scalar(0.5), TestTensors.One));
        var mismatch = ConvolutionSelfCheck.Compare(
            shape,
            2,
            channelsLast: true,
            CPU,
            sampledPositions: null,
            seed: 5,
            faulty
        );
        Assert.NotNull(mismatch);
        Assert.Equal(480, mismatch!.FirstChannel);
        Assert.Equal(511, mismatch.LastChannel);
        Assert.Equal(2 * 32 * 16, mismatch.WrongValues);
        Assert.Equal(2 * 512 * 16, mismatch.ComparedValues);
        Assert.Contains(
            "layer4.0.downsample.0: 256→512, 1×1, stride 2, padding 0, input 8×8, batch 2, channels-last",
            mismatch.ToString()
        );
        Assert.Contains("output channels 480–511", mismatch.ToString());

        // The same convolution without the fault passes.
        Assert.Null(ConvolutionSelfCheck.Compare(shape, 2, channelsLast: true, CPU, sampledPositions: null, seed: 5));
    }

    [Fact]
    public void AnErrorOfAPercentOfTheOutputsScaleInASingleValueIsBeyondTheRoundingBound()
    {
        using var scope = NewDisposeScope();
        var shape = new ConvolutionShape(new[] { "layer3.1.conv1" }, 256, 256, 3, 1, 1, 9, 9);
        var oneWrong = Corrupted(y =>
        {
            using var onePercent = (0.01 * y.abs().max().item<float>()).ToScalar();
            y[0, 7, 4, 4].add_(onePercent, TestTensors.One);
        });
        var mismatch = ConvolutionSelfCheck.Compare(
            shape,
            1,
            channelsLast: false,
            CPU,
            sampledPositions: null,
            seed: 9,
            oneWrong
        );
        Assert.NotNull(mismatch);
        Assert.Equal(1, mismatch!.WrongValues);
        Assert.Equal(7, mismatch.FirstChannel);
        Assert.Equal(7, mismatch.LastChannel);

        // A NaN is wrong too, though it compares false with everything.
        var withNaN = Corrupted(y => y[0, 3, 0, 0].fill_(TestTensors.Scalar(double.NaN)));
        Assert.Equal(
            1,
            ConvolutionSelfCheck
                .Compare(shape, 1, channelsLast: false, CPU, sampledPositions: null, seed: 9, withNaN)!
                .WrongValues
        );
    }

    [Fact]
    public void SampledComparisonsIncludeTheBordersAndStayWithinTheBudget()
    {
        using var scope = NewDisposeScope();
        // A fault only in the last output column (a border) is found although most positions are not compared.
        var shape = new ConvolutionShape(new[] { "layer1.0.conv1" }, 64, 64, 3, 1, 1, 40, 40);
        var lastColumnWrong = Corrupted(y => y.narrow(3, 39, 1).add_(TestTensors.Scalar(1), TestTensors.One));
        var mismatch = ConvolutionSelfCheck.Compare(
            shape,
            1,
            channelsLast: true,
            CPU,
            sampledPositions: 200,
            seed: 2,
            lastColumnWrong
        );
        Assert.NotNull(mismatch);
        Assert.Equal(64 * 40, mismatch!.WrongValues);
        Assert.Equal(64 * 200, mismatch.ComparedValues);
    }

    [Fact]
    public void WithoutOneDnnTheConvolutionsAreStillRightAndTheSwitchesAreReachable()
    {
        ConvolutionSelfCheck.EnsureConfigured();
        Assert.True(LibTorchSwitches.Available);
        Assert.False(LibTorchSwitches.NnpackEnabled);
        Assert.True(LibTorchSwitches.OneDnnEnabled);
        var shapes = new[]
        {
            new ConvolutionShape(new[] { "conv1" }, 3, 64, 7, 2, 3, 64, 64),
            new ConvolutionShape(new[] { "layer2.0.conv1" }, 64, 128, 3, 2, 1, 17, 17),
            new ConvolutionShape(new[] { "layer4.0.downsample.0" }, 256, 512, 1, 2, 0, 8, 8),
        };
        try
        {
            Assert.True(LibTorchSwitches.SetOneDnn(false));
            Assert.False(LibTorchSwitches.OneDnnEnabled);
            Assert.All(shapes, s => Assert.Null(ConvolutionSelfCheck.Compare(s, 2, channelsLast: true, CPU, null, 1)));
        }
        finally
        {
            LibTorchSwitches.SetOneDnn(true);
        }
    }

    [Fact]
    public void TheEnvironmentNamesProcessorLibrariesAndThreads()
    {
        var environment = RuntimeEnvironment.Current();
        Assert.False(string.IsNullOrWhiteSpace(environment.Processor));
        Assert.StartsWith("0.107", environment.TorchSharpVersion);
        Assert.StartsWith("2.", environment.LibTorchVersion);
        Assert.True(environment.Threads >= 1);
        var lines = environment.Describe().ToList();
        Assert.Contains(lines, l => l.StartsWith("CPU:"));
        Assert.Contains(lines, l => l.Contains("libtorch " + environment.LibTorchVersion));
    }

    [Fact]
    public void TheExceptionNamesTheShapeTheMachineAndTheWayOut()
    {
        var shape = new ConvolutionShape(new[] { "layer4.0.downsample.0" }, 256, 512, 1, 2, 0, 8, 8);
        var mismatch = new ConvolutionMismatch(shape, 2, true, 10.4, 1e-4, 480, 511, 1024, 16384);
        var exception = new ConvolutionSelfCheckException(new[] { mismatch, mismatch }, RuntimeEnvironment.Current());
        Assert.Contains("layer4.0.downsample.0: 256→512", exception.Message);
        Assert.Contains("(and 1 more)", exception.Message);
        Assert.Contains("tiled-ensemble doctor", exception.Message);
        Assert.Contains("TILEDENSEMBLE_ONEDNN=0", exception.Message);
        Assert.Contains(RuntimeEnvironment.Current().Processor, exception.Message);
    }

    /// <summary>libtorch's convolution (contiguous output) with a fault injected into its result.</summary>
    private static Func<Tensor, Tensor, long, long, Tensor> Corrupted(Action<Tensor> corrupt) =>
        (x, w, stride, padding) =>
        {
            using var scope = NewDisposeScope();
            var y = nn.functional.conv2d(x, w, null, new[] { stride }, new[] { padding }).contiguous();
            corrupt(y);
            return y.MoveToOuterDisposeScope();
        };
}
