using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Metrics;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>Boxes around the 8-connected regions of a predicted mask, each with the highest map value inside.</summary>
internal static class BoxFinder
{
    /// <summary>The regions of one image's <paramref name="mask"/> ([H, W] or [1, H, W]) with their highest
    /// <paramref name="map"/> value.</summary>
    /// <remarks>
    /// Regions are labelled inside the smallest rectangle that holds every masked pixel, found by two vectorized
    /// reductions: outside it there is nothing to label, so the boxes are the same as over the whole image, and a small
    /// defect in a large image costs a copy and a pass over its own rectangle, not over a million pixels.
    /// </remarks>
    public static IReadOnlyList<AnomalyBox> Find(Tensor map, Tensor mask)
    {
        int height = (int)mask.shape[^2],
            width = (int)mask.shape[^1];
        using var scope = NewDisposeScope();
        var plane = mask.reshape(height, width);
        var rows = plane.any(1).nonzero();
        if (rows.shape[0] == 0)
        {
            return Array.Empty<AnomalyBox>();
        }

        var columns = plane.any(0).nonzero();
        int top = (int)rows[0, 0].item<long>(),
            bottom = (int)rows[-1, 0].item<long>() + 1;
        int left = (int)columns[0, 0].item<long>(),
            right = (int)columns[-1, 0].item<long>() + 1;
        int cropHeight = bottom - top,
            cropWidth = right - left;
        var maskValues = plane
            .narrow(0, top, cropHeight)
            .narrow(1, left, cropWidth)
            .cpu()
            .contiguous()
            .data<bool>()
            .ToArray();
        var mapValues = map.reshape(height, width)
            .narrow(0, top, cropHeight)
            .narrow(1, left, cropWidth)
            .cpu()
            .to_type(ScalarType.Float32)
            .contiguous()
            .data<float>()
            .ToArray();
        return RegionBoxes
            .Find(maskValues, mapValues, cropHeight, cropWidth, top, left)
            .Select(b => new AnomalyBox(b.X1, b.Y1, b.X2, b.Y2, b.Score))
            .ToArray();
    }
}
