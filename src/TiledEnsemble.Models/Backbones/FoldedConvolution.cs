using System.Linq;
using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

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
    /// The eval-mode <see cref="Apply"/> as an ONNX convolution with the folded weights and bias (computed as
    /// <see cref="Apply"/> computes them); returns the output's name.
    /// </summary>
    public static string Export(OnnxGraphBuilder g, Conv2d conv, BatchNormalization2d norm, string input, string hint)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var eps = norm.eps.ToScalar();
        var scale = norm.running_var!.add(eps, Scalars.One).rsqrt_().mul_(norm.weight);
        var bias = (conv.bias is null ? norm.running_mean!.neg() : conv.bias.sub(norm.running_mean!))
            .mul_(scale)
            .add_(norm.bias!, Scalars.One);
        var folded = conv.weight.mul(scale.reshape(-1, 1, 1, 1));
        return ExportConvolution(
            g,
            conv,
            input,
            g.Initializer($"{hint}.weight", folded),
            g.Initializer($"{hint}.bias", bias)
        );
    }

    /// <summary>
    /// A convolution or a transposed convolution (2×2, stride 2, as the Reverse Distillation decoder has) followed by
    /// <paramref name="norm"/> in eval mode, as one ONNX node with the batch norm folded in.
    /// </summary>
    public static string ExportAny(
        OnnxGraphBuilder g,
        Module<Tensor, Tensor> conv,
        BatchNormalization2d norm,
        string input,
        string hint
    )
    {
        if (conv is Conv2d plain)
        {
            return Export(g, plain, norm, input, hint);
        }

        var transposed =
            conv as ConvTranspose2d
            ?? throw new System.NotSupportedException($"{conv.GetType().Name} has no ONNX form.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var eps = norm.eps.ToScalar();
        var scale = norm.running_var!.add(eps, Scalars.One).rsqrt_().mul_(norm.weight);
        var bias = (transposed.bias is null ? norm.running_mean!.neg() : transposed.bias.sub(norm.running_mean!))
            .mul_(scale)
            .add_(norm.bias!, Scalars.One);

        // A transposed convolution's weight is [in, out, kh, kw]: the batch norm scales its output channels.
        var folded = transposed.weight.mul(scale.reshape(1, -1, 1, 1));
        long kernel = transposed.weight.shape[2],
            stride = transposed.stride?[0] ?? 1;
        return g.Node(
            "ConvTranspose",
            new[] { input, g.Initializer($"{hint}.weight", folded), g.Initializer($"{hint}.bias", bias) },
            attributes: new[]
            {
                OnnxGraphBuilder.AttrInts("kernel_shape", kernel, kernel),
                OnnxGraphBuilder.AttrInts("strides", stride, stride),
            }
        );
    }

    /// <summary>A convolution with its own weights and bias (no batch norm after it) as an ONNX node.</summary>
    public static string ExportPlain(OnnxGraphBuilder g, Conv2d conv, string input, string hint)
    {
        using var noGrad = no_grad();
        string? bias = conv.bias is null ? null : g.Initializer($"{hint}.bias", conv.bias);
        return ExportConvolution(g, conv, input, g.Initializer($"{hint}.weight", conv.weight), bias);
    }

    private static string ExportConvolution(OnnxGraphBuilder g, Conv2d conv, string input, string weight, string? bias)
    {
        long kernel = conv.weight.shape[2];
        if (
            conv.weight.shape[3] != kernel
            || conv.stride?.Distinct().Count() > 1
            || conv.padding?.Distinct().Count() > 1
        )
        {
            throw new System.NotSupportedException("Only square kernels, strides and paddings are exported.");
        }

        return g.Conv(
            input,
            weight,
            bias,
            kernel,
            conv.stride?[0] ?? 1,
            conv.padding?[0] ?? 0,
            conv.dilation?[0] ?? 1,
            conv.groups
        );
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

    /// <summary>The residual branch as ONNX: <paramref name="input"/>, or its exported projection.</summary>
    public static string ExportResidual(OnnxGraphBuilder g, Sequential? projection, string input, string hint)
    {
        if (projection is null)
        {
            return input;
        }

        var parts = projection.children().ToArray();
        return ExportAny(
            g,
            (Module<Tensor, Tensor>)parts[0],
            (BatchNormalization2d)parts[1],
            input,
            $"{hint}.downsample"
        );
    }
}
