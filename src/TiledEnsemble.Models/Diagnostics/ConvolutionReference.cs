using System;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>
/// Convolution computed another way, in float64: the input unfolded into columns (im2col), then one matrix product.
/// No oneDNN kernel, no float32 arithmetic, no channels-last path is involved.
/// </summary>
internal static class ConvolutionReference
{
    /// <summary>
    /// The convolution of <paramref name="input"/> [B, C_in, H, W] with <paramref name="weight"/> [C_out, C_in, k, k]
    /// at the flattened output <paramref name="positions"/> (all when null), as [B, C_out, P], with the rounding bound
    /// of a float32 computation of each value: <c>10·√K·u·Σ|x||w|</c> for K products, u = 2⁻²⁴.
    /// </summary>
    /// <remarks>
    /// The worst case of a float32 sum of K products is K·u·Σ|x||w|, which for K = 4608 lets a 1 % error through.
    /// Rounding errors of round-to-nearest behave as independent and centred, so the error exceeds
    /// λ·√K·u·Σ|x||w| with probability below 2·exp(−λ²/2) (Higham and Mary, 2019); λ = 10 puts a false
    /// alarm beyond 10⁻²¹ per value, while a wrong kernel (errors of several percent) is far outside.
    /// </remarks>
    public static (Tensor Values, Tensor Bound) Compute(
        Tensor input,
        Tensor weight,
        long stride,
        long padding,
        Tensor? positions
    )
    {
        using var scope = NewDisposeScope();
        long kernel = weight.shape[2],
            outChannels = weight.shape[0];
        var columns = F.unfold(input.to(ScalarType.Float64), kernel, dilation: 1, padding: padding, stride: stride);
        if (positions is not null)
        {
            columns = columns.index_select(2, positions);
        }

        var matrix = weight.to(ScalarType.Float64).reshape(outChannels, -1);
        var values = matmul(matrix, columns);
        long products = matrix.shape[1];
        using var gamma = (10.0 * Math.Sqrt(Math.Max(products, 16)) * Math.Pow(2, -24)).ToScalar();
        var bound = matmul(matrix.abs(), columns.abs()).mul_(gamma);
        return (values.MoveToOuterDisposeScope(), bound.MoveToOuterDisposeScope());
    }
}
