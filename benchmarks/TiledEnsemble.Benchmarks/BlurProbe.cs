using System;
using System.Diagnostics;
using TiledEnsemble.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// `-- --blur-probe`: the library's Gaussian blur (sums of shifted slices) against the separable depthwise convolution
/// it replaced and a row-wise conv1d, on four 1024×1024 maps with σ = 2, each timed over ten calls after a warm-up.
/// </summary>
internal static class BlurProbe
{
    public static void Run()
    {
        using var scope = NewDisposeScope();
        var maps = rand(4, 1, 1024, 1024);
        var kernel = GaussianBlur.Kernel1D(2);
        int size = kernel.Length,
            pad = size / 2;
        var reference = GaussianBlur.Apply(maps, 2);
        Time("library: sums of shifted slices", () => GaussianBlur.Apply(maps, 2), reference);
        Time(
            "former: separable conv2d",
            () =>
            {
                var weights = tensor(kernel, dtype: ScalarType.Float32);
                var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, PaddingModes.Reflect);
                var horizontal = F.conv2d(padded, weights.reshape(1, 1, 1, size));
                return F.conv2d(horizontal, weights.reshape(1, 1, size, 1));
            },
            reference
        );
        Time(
            "conv1d along rows, then columns",
            () =>
            {
                var weights = tensor(kernel, dtype: ScalarType.Float32).reshape(1, 1, size);
                var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, PaddingModes.Reflect);
                long h = padded.shape[2],
                    w = padded.shape[3];
                var horizontal = F.conv1d(padded.reshape(-1, 1, w), weights).reshape(4, 1, h, w - (2 * pad));
                var columns = horizontal.transpose(2, 3).contiguous();
                return F.conv1d(columns.reshape(-1, 1, h), weights)
                    .reshape(4, 1, w - (2 * pad), h - (2 * pad))
                    .transpose(2, 3);
            },
            reference
        );
        Console.WriteLine($"TorchSharp threads {get_num_threads()}");
    }

    private static void Time(string name, Func<Tensor> blur, Tensor reference)
    {
        using (var warm = NewDisposeScope())
        {
            double difference = blur().sub(reference).abs().max().item<float>();
            Console.Write($"{name}: max |difference to the library| {difference:G3}, ");
        }

        const int Calls = 10;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Calls; i++)
        {
            using var s = NewDisposeScope();
            blur();
        }

        Console.WriteLine($"{watch.Elapsed.TotalMilliseconds / Calls / 4:F2} ms per 1024x1024 map");
    }
}
