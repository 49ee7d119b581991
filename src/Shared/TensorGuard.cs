using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>
/// Argument checks for tensors, with messages that name the parameter, the expected layout and what came. Shared as
/// source by every library (as Microsoft.Extensions shares its internal helpers), so no internals cross assemblies.
/// </summary>
internal static class TensorGuard
{
    public static void NotNull(Tensor? tensor, string name)
    {
        if (tensor is null)
        {
            throw new ArgumentNullException(name);
        }

        if (tensor.IsInvalid)
        {
            throw new ObjectDisposedException(name, $"{name} has already been disposed.");
        }
    }

    public static void Rank(Tensor tensor, int rank, string name, string layout)
    {
        NotNull(tensor, name);
        if (tensor.dim() != rank)
        {
            throw new ArgumentException(
                $"{name} must have rank {rank} ({layout}); got shape {Describe(tensor)}.",
                name
            );
        }
    }

    public static void FloatingPoint(Tensor tensor, string name)
    {
        if (!tensor.is_floating_point())
        {
            throw new ArgumentException(
                $"{name} must be a floating-point tensor; got dtype {tensor.dtype}. Convert it with "
                    + $".to(ScalarType.Float32).",
                name
            );
        }
    }

    public static TiledEnsemble.Tiling.Size2D Positive(TiledEnsemble.Tiling.Size2D size, string name)
    {
        if (size.Height <= 0 || size.Width <= 0)
        {
            throw new ArgumentException($"{name} must be positive in both dimensions; got {size}.", name);
        }

        return size;
    }

    public static string Describe(Tensor tensor) =>
        "["
        + string.Join(", ", tensor.shape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        + "]";
}
