using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Patchcore;

/// <summary>
/// Greedy k-center coreset selection (Sener &amp; Savarese 2018, as Patchcore uses it): start from a seeded random
/// point, then repeatedly add the point farthest from the points chosen so far. Distances are computed on a sparse
/// random projection of the features (Achlioptas/Li: entries ±√(s/k) with probability 1/(2s), 0 otherwise, s =
/// √d), which preserves distances within the Johnson–Lindenstrauss bound and makes selection cheaper.
/// </summary>
public static class KCenterGreedy
{
    /// <summary>Target dimension for ε = 0.9, as scikit-learn's johnson_lindenstrauss_min_dim.</summary>
    public static int JohnsonLindenstraussDimension(long samples, double eps = 0.9) =>
        (int)Math.Ceiling(4 * Math.Log(Math.Max(2, samples)) / ((eps * eps / 2) - (eps * eps * eps / 3)));

    /// <summary>Selects <paramref name="count"/> row indices of <paramref name="features"/> [N, D].</summary>
    public static long[] Select(Tensor features, int count, int seed, int? projectionDimension = null)
    {
        TensorGuard.Rank(features, 2, nameof(features), "[N, D]");
        long n = features.shape[0],
            d = features.shape[1];
        if (count < 1 || count > n)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in 1..{n}.");
        }

        using var scope = NewDisposeScope();
        var random = new Random(seed);
        int k = projectionDimension ?? JohnsonLindenstraussDimension(n);
        var projected =
            k < d
                ? features.to_type(ScalarType.Float32).mm(Projection(d, k, random, features.device))
                : features.to_type(ScalarType.Float32);
        var selected = new long[count];
        selected[0] = random.NextInt64(n);

        // Squared distances from ‖x‖² − 2·x·c + ‖c‖²: one matrix–vector product per step reads the
        // points once and allocates only [N] vectors, where (x − c)² allocated an [N, k] block every step (42 MiB
        // for 40 images of 256² tiles: fresh pages at every step under the training allocator setting). The farthest
        // point is the same for squared distances.
        var norms = projected.pow(Scalars.Two).sum(1);
        var minDistance = SquaredDistances(projected, norms, selected[0]);
        for (int i = 1; i < count; i++)
        {
            using var step = NewDisposeScope();
            selected[i] = minDistance.argmax().item<long>();
            minDistance.copy_(minimum(minDistance, SquaredDistances(projected, norms, selected[i])));
        }

        return selected;
    }

    private static Tensor SquaredDistances(Tensor points, Tensor norms, long index)
    {
        using var scope = NewDisposeScope();
        using var minusTwo = (-2.0).ToScalar();
        return points
            .mv(points[index])
            .mul_(minusTwo)
            .add_(norms, Scalars.One)
            .add_(norms[index], Scalars.One)
            .clamp_min_(Scalars.Zero)
            .MoveToOuterDisposeScope();
    }

    private static Tensor Projection(long inputs, int outputs, Random random, Device device)
    {
        double s = Math.Sqrt(inputs);
        double value = Math.Sqrt(s / outputs);
        var matrix = new float[inputs * outputs];
        for (long i = 0; i < matrix.LongLength; i++)
        {
            double u = random.NextDouble();
            matrix[i] =
                u < 1 / (2 * s) ? (float)value
                : u < 1 / s ? (float)-value
                : 0f;
        }

        return tensor(matrix, new[] { inputs, (long)outputs }, device: device);
    }
}
