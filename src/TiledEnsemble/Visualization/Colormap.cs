using static TorchSharp.torch;

namespace TiledEnsemble.Visualization;

/// <summary>Colormaps for heat maps.</summary>
public static class Colormap
{
    /// <summary>The classic jet map of values in [0, 1] ([H, W] → [3, H, W]): blue, cyan, yellow, red.</summary>
    public static Tensor Jet(Tensor values)
    {
        using var scope = NewDisposeScope();
        var v = values.to_type(ScalarType.Float32).clamp(0, 1) * 4;
        var r = (v - 1.5).clamp(0, 1) - (v - 3.5).clamp(0, 1) * 0.5;
        var g = (v - 0.5).clamp(0, 1) - (v - 2.5).clamp(0, 1);
        var b = (v + 0.5).clamp(0, 1) - (v - 1.5).clamp(0, 1);
        return stack(new[] { r, g, b }).clamp(0, 1).MoveToOuterDisposeScope();
    }
}
