using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// Pooling of [B, C, H, W] tensors on channels-last strides on the CPU.
/// </summary>
/// <remarks>
/// libtorch's CPU pooling kernels walk each channel's plane with a scalar loop for the default (channels-first) layout,
/// but vectorize across channels for channels-last strides. With the two layout copies included, ResNet's stem max-pool
/// (3×3, stride 2, over [4, 64, 64, 64]) took 1.1 ms instead of 5.4 ms here; Patchcore's average pools, upsampling
/// and concatenation 0.55 ms instead of 1.3 ms. Results are bit-identical (a maximum is exact; averages and
/// interpolations combine the same values in the same order; tested). Other devices use libtorch's kernels as they are.
/// </remarks>
internal static class Pooling
{
    public static Tensor MaxPool(Tensor input, long kernel, long stride, long padding)
    {
        if (input.device_type != TorchSharp.DeviceType.CPU)
        {
            return F.max_pool2d(input, kernel, stride, padding);
        }

        using var scope = NewDisposeScope();
        return F.max_pool2d(ChannelsLast(input), kernel, stride, padding).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// On the CPU, the same values with channels-last strides ([B, C, H, W] shape, [B, H, W, C] memory), which
    /// libtorch's pooling and interpolation kernels vectorize and keep in their outputs; elsewhere the input itself.
    /// </summary>
    public static Tensor ChannelsLastOnCpu(Tensor input) =>
        input.device_type == TorchSharp.DeviceType.CPU ? ChannelsLast(input) : input;

    private static Tensor ChannelsLast(Tensor input)
    {
        using var scope = NewDisposeScope();
        return input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
