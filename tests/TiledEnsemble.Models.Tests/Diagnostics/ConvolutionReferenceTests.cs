using System;
using System.Linq;
using TiledEnsemble.Models.Diagnostics;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Diagnostics;

public class ConvolutionReferenceTests
{
    [Fact]
    public void AThreeByThreeSumOfOnesWithPaddingMatchesTheCountsByHand()
    {
        using var scope = NewDisposeScope();
        // Input 1..9 in a 3×3 grid; a 3×3 kernel of ones sums each position's neighbourhood (zero padding 1).
        var input = tensor(Enumerable.Range(1, 9).Select(v => (float)v).ToArray()).reshape(1, 1, 3, 3);
        var weight = ones(1, 1, 3, 3);
        var (values, _) = ConvolutionReference.Compute(input, weight, stride: 1, padding: 1, positions: null);
        // Row by row: 1+2+4+5=12, 1+2+3+4+5+6=21, 2+3+5+6=16, 1+2+4+5+7+8=27, 45, 2+3+5+6+8+9=33, 4+5+7+8=24, 39, 28.
        Assert.Equal(new[] { 12.0, 21, 16, 27, 45, 33, 24, 39, 28 }, values.data<double>().ToArray());

        // Stride 2 keeps the corners and the middle of the border rows: positions (0,0), (0,2), (2,0), (2,2).
        var (strided, _) = ConvolutionReference.Compute(input, weight, stride: 2, padding: 1, positions: null);
        Assert.Equal(new[] { 12.0, 16, 24, 28 }, strided.data<double>().ToArray());
    }

    [Fact]
    public void RandomConvolutionsEqualANaiveLoopAndSelectedPositionsAreThoseColumns()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        foreach (
            var (cin, cout, k, stride, padding, h, w) in new[]
            {
                (3, 4, 7, 2, 3, 11, 9),
                (5, 6, 3, 1, 1, 7, 8),
                (4, 3, 1, 2, 0, 9, 7),
                (2, 5, 3, 2, 1, 10, 10),
            }
        )
        {
            var input = randn(new long[] { 2, cin, h, w }, generator: generator);
            var weight = randn(new long[] { cout, cin, k, k }, generator: generator);
            var (values, bound) = ConvolutionReference.Compute(input, weight, stride, padding, positions: null);
            var expected = NaiveConvolution(
                input.data<float>().ToArray(),
                weight.data<float>().ToArray(),
                2,
                cin,
                h,
                w,
                cout,
                k,
                stride,
                padding,
                out int oh,
                out int ow
            );
            Assert.Equal(new long[] { 2, cout, oh * ow }, values.shape);
            var actual = values.data<double>().ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(
                    Math.Abs(expected[i] - actual[i]) <= 1e-9 * (1 + Math.Abs(expected[i])),
                    $"element {i}: {actual[i]} vs {expected[i]}"
                );
            }

            // The bound is 10·√K·2⁻²⁴ times Σ|x||w|, so at least that multiple of each value's magnitude.
            long products = cin * k * k;
            Assert.True(
                bound
                    .ge(
                        values
                            .abs()
                            .mul(
                                TestTensors.Scalar(
                                    10 * Math.Sqrt(Math.Max(products, 16)) * Math.Pow(2, -24) * (1 - 1e-12)
                                )
                            )
                    )
                    .all()
                    .item<bool>()
            );

            var positions = tensor(new long[] { 0, 3, oh * ow - 1 });
            var (some, _) = ConvolutionReference.Compute(input, weight, stride, padding, positions);
            Assert.True(some.eq(values.index_select(2, positions)).all().item<bool>());
        }
    }

    /// <summary>Convolution as its definition: four nested loops in double, nothing from libtorch.</summary>
    private static double[] NaiveConvolution(
        float[] x,
        float[] w,
        int n,
        int cin,
        int h,
        int wd,
        int cout,
        int k,
        int stride,
        int padding,
        out int oh,
        out int ow
    )
    {
        oh = ((h + (2 * padding) - k) / stride) + 1;
        ow = ((wd + (2 * padding) - k) / stride) + 1;
        var y = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < cout; o++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = 0;
                        for (int c = 0; c < cin; c++)
                        {
                            for (int u = 0; u < k; u++)
                            {
                                for (int v = 0; v < k; v++)
                                {
                                    int r = (i * stride) + u - padding,
                                        s = (j * stride) + v - padding;
                                    if (r >= 0 && r < h && s >= 0 && s < wd)
                                    {
                                        sum +=
                                            (double)x[(((b * cin) + c) * h + r) * wd + s]
                                            * w[(((o * cin) + c) * k + u) * k + v];
                                    }
                                }
                            }
                        }

                        y[(((b * cout) + o) * oh * ow) + (i * ow) + j] = sum;
                    }
                }
            }
        }

        return y;
    }
}
