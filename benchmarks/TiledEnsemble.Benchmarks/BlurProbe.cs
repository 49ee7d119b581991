using System;
using System.Diagnostics;
using TiledEnsemble.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Benchmarks;

internal static class BlurProbe
{
    public static void Run()
    {
        using var scope = NewDisposeScope();
        var maps = rand(4, 1, 1024, 1024);
        var k = GaussianBlur.Kernel1D(2);
        int size = k.Length, pad = size / 2;
        Time("conv2d separable", () => GaussianBlur.Apply(maps, 2));
        Time("conv1d rows", () =>
        {
            var kernel = tensor(k, dtype: ScalarType.Float32).reshape(1, 1, size);
            var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, PaddingModes.Reflect);
            long h = padded.shape[2], w = padded.shape[3];
            var horizontal = F.conv1d(padded.reshape(-1, 1, w), kernel).reshape(4, 1, h, w - 2 * pad);
            var t = horizontal.transpose(2, 3).contiguous();
            var vertical = F.conv1d(t.reshape(-1, 1, h), kernel).reshape(4, 1, w - 2 * pad, h - 2 * pad).transpose(2, 3);
            return vertical;
        });
        Time("shifted adds", () =>
        {
            var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, PaddingModes.Reflect);
            long h = padded.shape[2], w = padded.shape[3];
            var horizontal = zeros(4, 1, h, w - 2 * pad);
            for (int i = 0; i < size; i++)
            {
                using var s = k[i].ToScalar();
                horizontal.add_(padded.narrow(3, i, w - 2 * pad), alpha: s);
            }

            var vertical = zeros(4, 1, h - 2 * pad, w - 2 * pad);
            for (int i = 0; i < size; i++)
            {
                using var s = k[i].ToScalar();
                vertical.add_(horizontal.narrow(2, i, h - 2 * pad), alpha: s);
            }

            return vertical;
        });
        Time("library again", () => GaussianBlur.Apply(maps, 2));
        var contiguous = maps.contiguous();
        Time("library sigma 4", () => GaussianBlur.Apply(maps, 4));
        Console.WriteLine($"threads {get_num_threads()}");
    }

    private static void Time(string name, Func<Tensor> f)
    {
        f();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++)
        {
            using var s = NewDisposeScope();
            f();
        }

        Console.WriteLine($"{name}: {watch.Elapsed.TotalMilliseconds / 10 / 4:F2} ms per 1024² map");
    }
}
