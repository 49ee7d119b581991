using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Metrics;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>Boxes around the 8-connected regions of a predicted mask, each with the highest map value inside.</summary>
internal static class BoxFinder
{
    public static IReadOnlyList<AnomalyBox> Find(Tensor map, Tensor mask)
    {
        int height = (int)mask.shape[^2], width = (int)mask.shape[^1];
        using var scope = NewDisposeScope();

        // Most inspected images are normal: one vectorized test spares copying a million-pixel mask into managed memory.
        if (!mask.any().item<bool>())
        {
            return Array.Empty<AnomalyBox>();
        }

        var maskValues = mask.cpu().flatten().data<bool>().ToArray();

        var mapValues = map.cpu().flatten().to_type(ScalarType.Float32).data<float>().ToArray();
        var (labels, count) = ConnectedComponents.Label(maskValues, height, width);
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

            int y = i / width, x = i % width;
            var b = boxes[r];
            boxes[r] = (Math.Min(b.X1, x), Math.Min(b.Y1, y), Math.Max(b.X2, x + 1), Math.Max(b.Y2, y + 1), Math.Max(b.Score, mapValues[i]));
        }

        return boxes.Skip(1).Select(b => new AnomalyBox(b.X1, b.Y1, b.X2, b.Y2, b.Score)).ToArray();
    }
}
