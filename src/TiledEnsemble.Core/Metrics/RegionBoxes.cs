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
    /// Boxes of the regions of a whole image's mask (<paramref name="height"/> × <paramref name="width"/> values, row
    /// by row), labelled inside the smallest rectangle that holds every masked pixel.
    /// </summary>
    /// <remarks>
    /// Outside that rectangle there is nothing to label, so the boxes are those of the whole image; an empty mask costs
    /// one vectorized search per row, and a small defect in a large image a pass over its own rectangle, not a label
    /// per pixel of the image (what <see cref="Find"/> over the whole image would allocate and visit).
    /// </remarks>
    public static List<(int X1, int Y1, int X2, int Y2, double Score)> FindInImage(
        ReadOnlySpan<bool> mask,
        ReadOnlySpan<float> map,
        int height,
        int width
    )
    {
        int top = -1,
            bottom = -1,
            left = width,
            right = -1;
        for (int y = 0; y < height; y++)
        {
            var row = mask.Slice(y * width, width);
            int first = row.IndexOf(true);
            if (first < 0)
            {
                continue;
            }

            top = top < 0 ? y : top;
            bottom = y;
            left = Math.Min(left, first);
            right = Math.Max(right, row.LastIndexOf(true));
        }

        if (top < 0)
        {
            return new List<(int, int, int, int, double)>();
        }

        int windowHeight = bottom - top + 1,
            windowWidth = right - left + 1;
        var windowMask = new bool[windowHeight * windowWidth];
        var windowMap = new float[windowHeight * windowWidth];
        for (int y = 0; y < windowHeight; y++)
        {
            int source = ((top + y) * width) + left;
            mask.Slice(source, windowWidth).CopyTo(windowMask.AsSpan(y * windowWidth, windowWidth));
            map.Slice(source, windowWidth).CopyTo(windowMap.AsSpan(y * windowWidth, windowWidth));
        }

        return Find(windowMask, windowMap, windowHeight, windowWidth, top, left);
    }

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
