using System;
using System.Diagnostics;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The backbones' forward pass (the layers the models use) as the library runs it (batch norms folded into the
/// convolutions, 1×1 convolutions as matrix products, in-place ReLU) against the same modules run one by one as
/// torchvision does (libtorch's convolutions, 1×1 included, then batch norm and ReLU), and against the library's
/// forward with libtorch's 1×1 convolution; alternating passes on the same inputs. Then the cost of the convolution
/// check a backbone runs once per input size.
/// </summary>
internal static class ConvolutionBenchmark
{
    public static void Run(bool quick)
    {
        Console.WriteLine(
            "## Backbone forward: the library's against module by module, and 1×1 as matrix products against "
                + "libtorch's 1×1"
        );
        Console.WriteLine(
            "| backbone, layers | input | library images/s | module by module images/s | ratio | library with "
                + "libtorch's 1×1 images/s | ratio of matrix products to it |"
        );
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        var cases = quick
            ? new[] { (BackboneKind.ResNet18, new[] { "layer1", "layer2", "layer3" }, 64, 4, 8) }
            : new[]
            {
                (BackboneKind.ResNet18, new[] { "layer1", "layer2", "layer3" }, 128, 16, 64),
                (BackboneKind.ResNet18, new[] { "layer1", "layer2", "layer3" }, 256, 4, 16),
                (BackboneKind.WideResNet50, new[] { "layer2", "layer3" }, 128, 16, 32),
                (BackboneKind.WideResNet50, new[] { "layer2", "layer3" }, 256, 4, 8),
            };
        foreach (var (kind, layers, size, batch, count) in cases)
        {
            using var scope = NewDisposeScope();
            using var backbone = ResNet.Create(kind, 42);
            using var generator = new Generator(1);
            var images = rand(new long[] { count, 3, size, size }, generator: generator);
            double Pass(bool matrixProducts, bool moduleByModule)
            {
                Convolutions.PointwiseAsMatrixProduct = matrixProducts;
                try
                {
                    var watch = Stopwatch.StartNew();
                    foreach (var b in BenchmarkBatches.Of(images, batch))
                    {
                        using var s = NewDisposeScope();
                        using var inference = inference_mode();
                        _ = moduleByModule
                            ? ModuleByModuleForward.Features(backbone, b, layers)
                            : backbone.Features(b, layers);
                    }

                    return count / watch.Elapsed.TotalSeconds;
                }
                finally
                {
                    Convolutions.PointwiseAsMatrixProduct = true;
                }
            }

            int pairs = quick ? 2 : 7;
            var modules = PairedPasses.Measure(pairs, () => Pass(true, false), () => Pass(false, true));
            var pointwise = PairedPasses.Measure(pairs, () => Pass(true, false), () => Pass(false, false));
            Console.WriteLine(
                $"| {BackboneNames.Name(kind)}, {string.Join("+", layers)} | {batch}×{size}² | {modules.Model:F1} | "
                    + $"{modules.Bound:F1} | {modules.Ratio:F2} ({modules.MinRatio:F2}–{modules.MaxRatio:F2}) | "
                    + $"{pointwise.Bound:F1} | {pointwise.Ratio:F2} "
                    + $"({pointwise.MinRatio:F2}–{pointwise.MaxRatio:F2}) |"
            );
        }

        Console.WriteLine();
        foreach (
            var (kind, size) in quick
                ? new[] { (BackboneKind.ResNet18, 64) }
                : new[] { (BackboneKind.ResNet18, 128), (BackboneKind.ResNet18, 256), (BackboneKind.WideResNet50, 256) }
        )
        {
            using var backbone = ResNet.Create(kind, 42);
            var watch = Stopwatch.StartNew();
            foreach (var shape in BackboneConvolutions.For(backbone, size, size, 3))
            {
                ConvolutionSelfCheck.Compare(shape, 2, channelsLast: true, CPU, 256, 1);
            }

            Console.WriteLine(
                $"Check before first use, {BackboneNames.Name(kind)} up to layer3 at {size}²: "
                    + $"{watch.Elapsed.TotalMilliseconds:F0} ms (once per process, input size and batch class)"
            );
        }

        Console.WriteLine();
    }
}
