using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models;

/// <summary>ImageNet normalization, as every backbone here expects its input.</summary>
public static class ImageNet
{
    private static readonly float[] Mean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] Std = { 0.229f, 0.224f, 0.225f };

    /// <summary>
    /// Checks [B, 3, H, W] images in [0, 1] (refusing NaN and infinite values), moves them to <paramref name="device"/>
    /// and normalizes them.
    /// </summary>
    public static Tensor Normalize(Tensor images, Device device)
    {
        TensorGuard.Rank(images, 4, nameof(images), "[B, 3, H, W]");
        if (images.shape[1] != 3)
        {
            throw new System.ArgumentException(
                $"images must have 3 channels (RGB); got {TensorGuard.Describe(images)}.",
                nameof(images)
            );
        }

        TensorGuard.FloatingPoint(images, nameof(images));
        using var scope = NewDisposeScope();
        var x = images.to(ScalarType.Float32, device);

        // One reduction instead of a mask the size of the batch (this runs for every tile position): a NaN or an
        // infinity anywhere makes the sum non-finite. Only then is it worth finding out which.
        if (!x.sum().isfinite().item<bool>())
        {
            throw new System.ArgumentException(
                x.isnan().any().item<bool>()
                    ? "images contain NaN values; check the image source and pre-processing."
                    : "images contain infinite values (or values so large that their sum overflows); images must "
                        + "hold values in [0, 1].",
                nameof(images)
            );
        }

        var mean = tensor(Mean, device: device).reshape(1, 3, 1, 1);
        var std = tensor(Std, device: device).reshape(1, 3, 1, 1);
        return x.sub(mean).div_(std).MoveToOuterDisposeScope();
    }
}
