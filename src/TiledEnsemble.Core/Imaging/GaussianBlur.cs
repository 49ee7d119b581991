using System;
using TiledEnsemble.Export;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Imaging;

/// <summary>
/// Separable Gaussian blur of [B, C, H, W] maps with a normalized kernel of size <c>2·floor(4σ + 0.5) + 1</c>
/// (17 for σ = 2, 33 for σ = 4, as anomalib) and reflect padding, channel by channel.
/// </summary>
/// <remarks>
/// Reflect padding needs the map to be larger than half the kernel. Smaller maps are padded by replicating the edge
/// instead of failing, which anomalib does not do.
/// </remarks>
public static class GaussianBlur
{
    /// <summary>The kernel size used for <paramref name="sigma"/>.</summary>
    public static int KernelSize(double sigma)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma))
        {
            throw new ArgumentException($"sigma must be a positive finite number; got {sigma}.", nameof(sigma));
        }

        return (2 * (int)((4 * sigma) + 0.5)) + 1;
    }

    /// <summary>The normalized 1-D kernel for <paramref name="sigma"/>, as doubles (for tests and
    /// documentation).</summary>
    public static double[] Kernel1D(double sigma)
    {
        int size = KernelSize(sigma);
        int center = size / 2;
        var kernel = new double[size];
        double sum = 0;
        for (int i = 0; i < size; i++)
        {
            double x = i - center;
            kernel[i] = Math.Exp(-(x * x) / (2 * sigma * sigma));
            sum += kernel[i];
        }

        for (int i = 0; i < size; i++)
        {
            kernel[i] /= sum;
        }

        return kernel;
    }

    /// <summary>Blurs <paramref name="maps"/> [B, C, H, W] (floating point) on its own device and dtype.</summary>
    public static Tensor Apply(Tensor maps, double sigma)
    {
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, C, H, W]");
        TensorGuard.FloatingPoint(maps, nameof(maps));
        using var scope = NewDisposeScope();
        var kernel = Kernel1D(sigma);
        var padded = Pad(maps, kernel.Length / 2);

        // Separable, as a sum of shifted slices: one multiply-add pass per tap. On the CPU this is about three times
        // faster than libtorch's convolution with a 1×k kernel and one channel, with equal results (`--
        // --blur-probe`).
        var blurred = BlurPadded(padded, kernel, 0, maps.shape[2], 0, maps.shape[3]);
        return blurred.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Apply"/> of single-channel maps [N, 1, <paramref name="height"/>, <paramref name="width"/>] as ONNX
    /// nodes: the same padding, then the kernel along the width and along the height; returns the output's name.
    /// </summary>
    internal static string Export(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        string maps,
        double sigma,
        long height,
        long width,
        string hint
    )
    {
        var kernel = Array.ConvertAll(Kernel1D(sigma), k => (float)k);
        long pad = kernel.Length / 2;
        var mode = pad < height && pad < width ? "reflect" : "edge";
        var padded = g.Pad(maps, new[] { 0, 0, pad, pad, 0, 0, pad, pad }, mode);
        var horizontal = g.ConvKernel(
            padded,
            g.Initializer($"{hint}.kernel_w", kernel, 1, 1, 1, kernel.Length),
            1,
            kernel.Length
        );
        return g.ConvKernel(
            horizontal,
            g.Initializer($"{hint}.kernel_h", kernel, 1, 1, kernel.Length, 1),
            kernel.Length,
            1
        );
    }

    /// <summary>The maps padded by <paramref name="pad"/> on each side as <see cref="Apply"/> pads them (reflect, or
    /// replicate when too small).</summary>
    internal static Tensor Pad(Tensor maps, int pad)
    {
        var mode = pad < maps.shape[2] && pad < maps.shape[3] ? PaddingModes.Reflect : PaddingModes.Replicate;
        return F.pad(maps, new long[] { pad, pad, pad, pad }, mode);
    }

    /// <summary>
    /// The blurred rows [top, top + height) and columns [left, left + width) of the map that <paramref name="padded"/>
    /// pads; bit-identical to the same window of <see cref="Apply"/>'s result.
    /// </summary>
    internal static Tensor BlurPadded(Tensor padded, double[] kernel, long top, long height, long left, long width)
    {
        int pad = kernel.Length / 2;
        using var scope = NewDisposeScope();
        var window = padded.narrow(2, top, height + (2 * pad)).narrow(3, left, width + (2 * pad));
        return ShiftedSum(ShiftedSum(window, 3, width, kernel), 2, height, kernel).MoveToOuterDisposeScope();
    }

    private static Tensor ShiftedSum(Tensor input, long dim, long length, double[] kernel)
    {
        var shape = (long[])input.shape.Clone();
        shape[dim] = length;
        using var scope = NewDisposeScope();
        var result = zeros(shape, input.dtype, input.device);
        for (int i = 0; i < kernel.Length; i++)
        {
            using var weight = kernel[i].ToScalar();
            result.add_(input.narrow(dim, i, length), alpha: weight);
        }

        return result.MoveToOuterDisposeScope();
    }
}
