using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// Every convolution of the models goes through here: on the CPU a 1×1 convolution is computed as the matrix product
/// it is; everything else is libtorch's convolution.
/// </summary>
/// <remarks>
/// libtorch's CPU convolutions run on oneDNN, whose 1×1 kernels are chosen per CPU and per shape. On AMD Zen 5 the
/// 1×1 path divided by zero while planning (SIGFPE in <c>brg_blocking_t::est_eff_1x1</c>: every Wide-ResNet-50-2
/// died) and computed wrong values for some shapes (ResNet-18's <c>layer4.0.downsample</c>, output channels 480 and up,
/// on channels-last input). A 1×1 convolution is <c>[N·H·W, C_in] × [C_in, C_out]</c> on channels-last features
/// (stride 2: every other row and column first), which BLAS computes without oneDNN's convolution planner. The
/// convolution benchmark measures 0.99 of libtorch's 1×1 speed on ResNet-18 and 0.85–0.94 on Wide-ResNet-50-2, where
/// MKL's sgemm trails oneDNN on AMD; folding the batch norms (<see cref="FoldedConvolution"/>) pays for it
/// (docs/benchmarks.md). Other devices keep libtorch's kernels (cuDNN).
/// </remarks>
internal static class Convolutions
{
    /// <summary>
    /// Whether CPU 1×1 convolutions are matrix products (the default); the convolution benchmark turns it off to time
    /// libtorch's own 1×1 path against it in one run.
    /// </summary>
    internal static bool PointwiseAsMatrixProduct { get; set; } = true;

    /// <summary><paramref name="conv"/> applied to <paramref name="input"/>.</summary>
    public static Tensor Forward(Conv2d conv, Tensor input) =>
        conv.padding_mode == PaddingModes.Zeros
            ? Apply(input, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups)
            : conv.forward(input);

    /// <summary>The output channels <paramref name="channels"/> of <paramref name="conv"/> applied to
    /// <paramref name="input"/>.</summary>
    public static Tensor Forward(Conv2d conv, Tensor input, Tensor channels)
    {
        using var scope = NewDisposeScope();
        var weight = conv.weight.index_select(0, channels);
        var bias = conv.bias?.index_select(0, channels);
        return Apply(input, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A zero-padded convolution of [N, C_in, H, W] <paramref name="input"/> with [C_out, C_in / groups, kH, kW]
    /// <paramref name="weight"/>, routed as described on the class.
    /// </summary>
    public static Tensor Apply(
        Tensor input,
        Tensor weight,
        Tensor? bias,
        long[]? stride,
        long[]? padding,
        long[]? dilation,
        long groups
    )
    {
        bool pointwise =
            weight.shape[2] == 1
            && weight.shape[3] == 1
            && groups == 1
            && AllEqual(padding, 0)
            && AllEqual(dilation, 1);
        return pointwise && PointwiseAsMatrixProduct && input.device_type == DeviceType.CPU
            ? Pointwise(input, weight, bias, stride)
            : F.conv2d(input, weight, bias, stride, padding ?? new long[] { 0 }, dilation, groups);
    }

    /// <summary>
    /// A 1×1 convolution of [N, C_in, H, W] <paramref name="input"/> with [C_out, C_in, 1, 1] <paramref
    /// name="weight"/> as one matrix product; the result has channels-last strides.
    /// </summary>
    public static Tensor Pointwise(Tensor input, Tensor weight, Tensor? bias, long[]? stride)
    {
        using var scope = NewDisposeScope();
        long strideH = stride is { Length: > 0 } ? stride[0] : 1;
        long strideW = stride is { Length: > 1 } ? stride[1] : strideH;
        var x = input;
        if (strideH != 1 || strideW != 1)
        {
            x = x.slice(2, 0, x.shape[2], strideH).slice(3, 0, x.shape[3], strideW);
        }

        long n = x.shape[0],
            inChannels = x.shape[1],
            h = x.shape[2],
            w = x.shape[3],
            outChannels = weight.shape[0];

        // A view when the input is channels-last and unstrided; one copy otherwise.
        var rows = x.permute(0, 2, 3, 1).reshape(n * h * w, inChannels);
        var matrix = weight.reshape(outChannels, inChannels).t();
        var product = bias is null ? rows.mm(matrix) : addmm(bias, rows, matrix, 1, 1);
        return product.view(n, h, w, outChannels).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    private static bool AllEqual(long[]? values, long expected) =>
        values is null || System.Array.TrueForAll(values, v => v == expected);
}
