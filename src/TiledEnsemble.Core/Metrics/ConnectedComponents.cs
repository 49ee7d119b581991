using System;

namespace TiledEnsemble.Metrics;

/// <summary>Labels the connected regions of a binary mask with 8-connectivity (diagonal neighbours connect).</summary>
internal static class ConnectedComponents
{
    /// <summary>Labels regions of <paramref name="mask"/> (row-major, <paramref name="height"/> ×
    /// <paramref name="width"/>).</summary>
    /// <returns>Per-pixel labels (0 for background, 1..count for regions) and the region count.</returns>
    public static (int[] Labels, int Count) Label(ReadOnlySpan<bool> mask, int height, int width)
    {
        if (height < 0 || width < 0 || mask.Length != (long)height * width)
        {
            throw new ArgumentException(
                $"mask has {mask.Length} pixels but {height}x{width} = {(long)height * width} were expected.",
                nameof(mask)
            );
        }

        var labels = new int[mask.Length];
        var stack = new int[mask.Length];
        int count = 0;
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || labels[start] != 0)
            {
                continue;
            }

            count++;
            int top = 0;
            stack[top++] = start;
            labels[start] = count;
            while (top > 0)
            {
                int p = stack[--top];
                int y = p / width,
                    x = p % width;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = y + dy;
                    if ((uint)ny >= (uint)height)
                    {
                        continue;
                    }

                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        if ((uint)nx >= (uint)width)
                        {
                            continue;
                        }

                        int q = (ny * width) + nx;
                        if (mask[q] && labels[q] == 0)
                        {
                            labels[q] = count;
                            stack[top++] = q;
                        }
                    }
                }
            }
        }

        return (labels, count);
    }
}
