using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// A convolution or eval-mode batch norm computed for some output channels only: the same arithmetic on the matching
/// rows of the weights, so a model that keeps a few channels of a layer does not pay for the others.
/// </summary>
internal static class ChannelSubset
{
    /// <summary>
    /// <paramref name="norm"/>(<paramref name="conv"/>(<paramref name="input"/>)) for all channels, or for
    /// <paramref name="channels"/> only when given (eval mode).
    /// </summary>
    public static Tensor ConvolveAndNormalize(Conv2d conv, BatchNorm2d norm, Tensor input, Tensor? channels)
    {
        using var scope = NewDisposeScope();
        var output = channels is null ? norm.forward(conv.forward(input)) : Normalize(norm, Convolve(conv, input, channels), channels);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>The residual branch <paramref name="identity"/>, restricted to <paramref name="channels"/> when given.</summary>
    public static Tensor Select(Tensor identity, Tensor? channels) => channels is null ? identity : identity.index_select(1, channels);

    /// <summary>The output channels <paramref name="channels"/> of <paramref name="conv"/> applied to <paramref name="input"/>.</summary>
    public static Tensor Convolve(Conv2d conv, Tensor input, Tensor channels)
    {
        using var scope = NewDisposeScope();
        var weight = conv.weight.index_select(0, channels);
        var bias = conv.bias is null ? null : conv.bias.index_select(0, channels);
        var output = F.conv2d(input, weight, bias, conv.stride, conv.padding ?? new long[] { 0 }, conv.dilation, conv.groups);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Eval-mode batch norm (running statistics) of <paramref name="input"/>, whose channels are <paramref name="channels"/> of <paramref name="norm"/>'s.</summary>
    public static Tensor Normalize(BatchNorm2d norm, Tensor input, Tensor channels)
    {
        using var scope = NewDisposeScope();
        var output = F.batch_norm(
            input,
            norm.running_mean!.index_select(0, channels),
            norm.running_var!.index_select(0, channels),
            norm.weight.index_select(0, channels),
            norm.bias!.index_select(0, channels),
            training: false,
            eps: norm.eps);
        return output.MoveToOuterDisposeScope();
    }
}
