using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>
/// How a prediction at the image size is brought back to an image's own size: the one rule that <c>Ensemble.Predict</c>
/// returns and that evaluation at the original resolution scores.
/// </summary>
internal static class InputResolution
{
    /// <summary>
    /// One image's [1, 1, h, w] <paramref name="map"/> and <paramref name="mask"/> at <paramref name="height"/> ×
    /// <paramref name="width"/>: the map bilinearly, the mask by nearest neighbour, as bool. At the same size both are
    /// returned as they are (views of the inputs).
    /// </summary>
    public static (Tensor Map, Tensor Mask) Restore(Tensor map, Tensor mask, long height, long width)
    {
        using var scope = NewDisposeScope();
        if (map.shape[2] == height && map.shape[3] == width)
        {
            return (map.alias().MoveToOuterDisposeScope(), mask.to_type(ScalarType.Bool).MoveToOuterDisposeScope());
        }

        var size = new[] { height, width };
        var restoredMap = nn.functional.interpolate(map, size, mode: InterpolationMode.Bilinear, align_corners: false);
        var restoredMask = nn
            .functional.interpolate(mask.to_type(ScalarType.Float32), size, mode: InterpolationMode.Nearest)
            .gt(Scalars.Half);
        return (restoredMap.MoveToOuterDisposeScope(), restoredMask.MoveToOuterDisposeScope());
    }
}
