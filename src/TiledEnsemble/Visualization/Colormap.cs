using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Visualization;

/// <summary>Colormaps for heat maps.</summary>
public static class Colormap
{
    /// <summary>The classic jet map of values in [0, 1] ([H, W] → [3, H, W]): blue, cyan, yellow, red.</summary>
    public static Tensor Jet(Tensor values)
    {
        TensorGuard.NotNull(values, nameof(values));
        using var scope = NewDisposeScope();
        using var four = 4L.ToScalar();
        using var half = 0.5.ToScalar();
        var v = values.to_type(ScalarType.Float32).clamp(Scalars.Zero, Scalars.One).mul(four);

        // Each channel is a sum of unit ramps clamp(v - shift, 0, 1) along the 0..4 scale.
        Tensor Ramp(double shift)
        {
            using var s = shift.ToScalar();
            return v.sub(s).clamp(Scalars.Zero, Scalars.One);
        }

        var r = Ramp(1.5) - Ramp(3.5).mul(half);
        var g = Ramp(0.5) - Ramp(2.5);
        var b = Ramp(-0.5) - Ramp(1.5);
        return stack(new[] { r, g, b }).clamp(Scalars.Zero, Scalars.One).MoveToOuterDisposeScope();
    }
}
