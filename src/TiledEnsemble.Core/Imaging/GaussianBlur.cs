using System;
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

    /// <summary>The normalized 1-D kernel for <paramref name="sigma"/>, as doubles (for tests and documentation).</summary>
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
        var kernel = tensor(Kernel1D(sigma), dtype: maps.dtype, device: maps.device);
        int size = (int)kernel.shape[0];
        int pad = size / 2;
        long channels = maps.shape[1];
        long height = maps.shape[2], width = maps.shape[3];
        var mode = pad < height && pad < width ? PaddingModes.Reflect : PaddingModes.Replicate;
        var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, mode);
        var horizontal = kernel.reshape(1, 1, 1, size).expand(channels, 1, 1, size);
        var vertical = kernel.reshape(1, 1, size, 1).expand(channels, 1, size, 1);
        var blurred = F.conv2d(F.conv2d(padded, horizontal, groups: channels), vertical, groups: channels);
        return blurred.MoveToOuterDisposeScope();
    }
}
