using System;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Visualization;

/// <summary>
/// Pictures are for eyes: panels larger than <see cref="MaxSide"/> on a side are reduced by a whole factor before
/// anything is drawn, so that a picture of an 8192² or 16384² image costs tens of megabytes instead of gigabytes
/// (every panel is a float copy of the image). Images are averaged; maps and masks keep each block's largest value, so
/// that a defect of a few pixels stays visible and "largest here" stays true.
/// </summary>
internal static class PictureSize
{
    /// <summary>The largest panel side drawn.</summary>
    public const int MaxSide = 2048;

    /// <summary>The whole factor that brings <paramref name="height"/> × <paramref name="width"/> within
    /// <see cref="MaxSide"/> (1 when it is).</summary>
    public static int Factor(long height, long width) =>
        (int)Math.Max(1, (Math.Max(height, width) + MaxSide - 1) / MaxSide);

    /// <summary>An image [C, H, W] reduced by <paramref name="factor"/> (block means).</summary>
    public static Tensor Image(Tensor image, int factor)
    {
        if (factor == 1)
        {
            return image.alias();
        }

        using var scope = NewDisposeScope();
        var batch = image.to_type(ScalarType.Float32).unsqueeze(0);
        var reduced = F.avg_pool2d(batch, new long[] { factor, factor }, ceil_mode: true, count_include_pad: false);
        return reduced.squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>A map or mask [C, H, W] reduced by <paramref name="factor"/> (block maxima).</summary>
    public static Tensor Peaks(Tensor values, int factor)
    {
        if (factor == 1)
        {
            return values.alias();
        }

        using var scope = NewDisposeScope();
        var batch = values.to_type(ScalarType.Float32).unsqueeze(0);
        var reduced = F.max_pool2d(batch, new long[] { factor, factor }, ceil_mode: true);
        return reduced.squeeze(0).MoveToOuterDisposeScope();
    }
}
