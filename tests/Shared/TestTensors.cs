using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Testing;

/// <summary>Tensor factories for tests that keep their TorchSharp scalars alive across the native call (see
/// TE0001).</summary>
internal static class TestTensors
{
    /// <summary>A tensor of the given shape filled with <paramref name="value"/> (float32 unless told).</summary>
    public static Tensor Full(long[] shape, double value, ScalarType dtype = ScalarType.Float32)
    {
        using var fill = value.ToScalar();
        return full(shape, fill, dtype);
    }

    /// <summary>Uniform [0, 1) float32 values drawn from a generator seeded with <paramref name="seed"/> (held across
    /// the draw, see TE0003).</summary>
    public static Tensor Rand(long[] shape, ulong seed)
    {
        using var generator = new Generator(seed);
        return rand(shape, generator: generator);
    }

    /// <summary>Standard normal float32 values drawn from a generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Randn(long[] shape, ulong seed)
    {
        using var generator = new Generator(seed);
        return randn(shape, generator: generator);
    }

    /// <summary>0, 1, ..., <paramref name="count"/> − 1.</summary>
    public static Tensor Arange(long count, ScalarType dtype)
    {
        using var start = 0L.ToScalar();
        using var stop = count.ToScalar();
        using var step = 1L.ToScalar();
        return arange(start, stop, step, dtype);
    }

    /// <summary>1, the alpha of a plain sum (t.add(u, One)): t + u and t.add(u) pass a temporary 1 (TE0001).</summary>
    public static readonly Scalar One = 1L.ToScalar();

    /// <summary>
    /// A Scalar kept alive until the process ends, for test arithmetic (tests make few; leaking them is harmless and
    /// avoids the finalizer race of temporaries).
    /// </summary>
    public static Scalar Scalar(double value)
    {
        var scalar = value.ToScalar();
        lock (Kept)
        {
            Kept.Add(scalar);
        }

        return scalar;
    }

    /// <summary>Whether two tensors are equal element for element (scoped: safe in async tests, where no scope can span
    /// an await).</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.AsSpan().SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    /// <summary>The largest element, as a float.</summary>
    public static float Max(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.max().item<float>();
    }

    private static readonly System.Collections.Generic.List<Scalar> Kept = new();
}
