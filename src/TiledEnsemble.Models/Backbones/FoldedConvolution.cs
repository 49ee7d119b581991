using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// A convolution followed by its batch norm, optionally for some output channels only. In eval mode the batch norm is
/// folded into the convolution (weights scaled by γ/√(σ²+ε), bias β − μ·γ/√(σ²+ε)): one convolution
/// with a bias instead of a convolution and a pass of batch norm over its output, and a model that keeps a few channels
/// of a layer computes only those rows of the weights.
/// </summary>
internal static class FoldedConvolution
{
    /// <summary>
    /// <paramref name="norm"/>(<paramref name="conv"/>(<paramref name="input"/>)) for all channels, or for
    /// <paramref name="channels"/> only when given (eval mode only).
    /// </summary>
    public static Tensor Apply(Conv2d conv, BatchNormalization2d norm, Tensor input, Tensor? channels)
    {
        using var scope = NewDisposeScope();
        if (norm.training)
        {
            // Batch statistics of a training pass need every channel, and the batch's own mean and variance.
            if (channels is not null)
            {
                throw new System.InvalidOperationException("Channels can be selected in eval mode only.");
            }

            return norm.forward(Convolutions.Forward(conv, input)).MoveToOuterDisposeScope();
        }

        Tensor mean = norm.running_mean!;
        Tensor variance = norm.running_var!;
        Tensor gamma = norm.weight;
        Tensor beta = norm.bias!;
        Tensor weight = conv.weight;
        Tensor? convBias = conv.bias;
        if (channels is not null)
        {
            (mean, variance, gamma, beta, weight) = (
                mean.index_select(0, channels),
                variance.index_select(0, channels),
                gamma.index_select(0, channels),
                beta.index_select(0, channels),
                weight.index_select(0, channels)
            );
            convBias = convBias?.index_select(0, channels);
        }

        using var eps = norm.eps.ToScalar();
        var scale = variance.add(eps, Scalars.One).rsqrt_().mul_(gamma);
        var bias = (convBias is null ? mean.neg() : convBias.sub(mean)).mul_(scale).add_(beta, Scalars.One);
        var folded = weight.mul(scale.reshape(-1, 1, 1, 1));
        return Convolutions
            .Apply(input, folded, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The residual branch: <paramref name="input"/> itself, or its projection (<c>downsample</c>: a convolution and a
    /// batch norm) when the block has one; restricted to <paramref name="channels"/> when given.
    /// </summary>
    public static Tensor Residual(Sequential? projection, Tensor input, Tensor? channels)
    {
        if (projection is null)
        {
            return channels is null ? input : input.index_select(1, channels);
        }

        using var scope = NewDisposeScope();
        var parts = projection.children().ToArray();
        return Apply((Conv2d)parts[0], (BatchNormalization2d)parts[1], input, channels).MoveToOuterDisposeScope();
    }
}
