using System;
using System.Collections.Generic;

namespace TiledEnsemble.Metrics;

/// <summary>
/// The boxes of a mask's 8-connected regions with their highest map value, from plain arrays: what a prediction reports
/// as its boxes. Shared as source with TiledEnsemble.OnnxRuntime, so both predictors report the same boxes.
/// </summary>
internal static class RegionBoxes
{
    /// <summary>
    /// Boxes (x2 and y2 exclusive, in the full image's pixels) of the regions of a window of the mask: rows
    /// <paramref name="top"/>.. and columns <paramref name="left"/>.. of the image, <paramref name="height"/> ×
    /// <paramref name="width"/> values row by row.
    /// </summary>
    public static List<(int X1, int Y1, int X2, int Y2, double Score)> Find(
        ReadOnlySpan<bool> mask,
        ReadOnlySpan<float> map,
        int height,
        int width,
        int top = 0,
        int left = 0
    )
    {
        var (labels, count) = ConnectedComponents.Label(mask, height, width);
        var boxes = new (int X1, int Y1, int X2, int Y2, double Score)[count + 1];
        for (int r = 1; r <= count; r++)
        {
            boxes[r] = (int.MaxValue, int.MaxValue, -1, -1, double.NegativeInfinity);
        }

        for (int i = 0; i < labels.Length; i++)
        {
            int r = labels[i];
            if (r == 0)
            {
                continue;
            }

            int y = top + (i / width),
                x = left + (i % width);
            var b = boxes[r];
            boxes[r] = (
                Math.Min(b.X1, x),
                Math.Min(b.Y1, y),
                Math.Max(b.X2, x + 1),
                Math.Max(b.Y2, y + 1),
                Math.Max(b.Score, map[i])
            );
        }

        return new List<(int, int, int, int, double)>(boxes[1..]);
    }
}
