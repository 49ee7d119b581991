using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

internal static class TensorAssert
{
    public static void Shape(Tensor tensor, params long[] expected) => Assert.Equal(expected, tensor.shape);

    public static void BitEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(Same(expected, actual), $"tensors differ; max |diff| = {MaxDifference(expected, actual)}");
    }

    public static void Close(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = MaxDifference(expected, actual);
        Assert.True(diff <= tolerance, $"max |diff| = {diff} exceeds {tolerance}");
    }

    public static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
    }

    public static float[] Values(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    private static double MaxDifference(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        return (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
    }
}
