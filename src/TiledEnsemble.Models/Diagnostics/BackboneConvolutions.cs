using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TorchSharp.Modules;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>The distinct convolutions a backbone runs for an input size, with the feature-map size each
/// receives.</summary>
internal static class BackboneConvolutions
{
    /// <summary>
    /// Walks <paramref name="backbone"/>'s convolutions in execution order up to layer <paramref name="deepestLayer"/>
    /// and merges those of equal shape.
    /// </summary>
    public static IReadOnlyList<ConvolutionShape> For(ResNet backbone, long height, long width, int deepestLayer)
    {
        var convolutions = backbone
            .named_modules()
            .Where(m => m.module is Conv2d)
            .Select(m => (m.name, conv: (Conv2d)m.module))
            .ToList();
        var shapes = new List<(string Name, Conv2d Conv, long H, long W)>();

        var stem = convolutions.Single(c => c.name == "conv1");
        shapes.Add(("conv1", stem.conv, height, width));
        var (h, w) = Output(stem.conv, height, width);
        (h, w) = (Pooled(h), Pooled(w)); // max-pool 3×3, stride 2, padding 1

        var blocks = convolutions
            .Where(c => c.name.StartsWith("layer", StringComparison.Ordinal))
            .GroupBy(c => string.Join('.', c.name.Split('.').Take(2)))
            .Where(g => BackboneNames.LayerIndex(g.Key.Split('.')[0]) <= deepestLayer);
        foreach (var block in blocks)
        {
            long blockH = h,
                blockW = w;
            foreach (
                var (name, conv) in block
                    .OrderBy(c => c.name.Contains(".downsample.", StringComparison.Ordinal))
                    .ThenBy(c => c.name, StringComparer.Ordinal)
            )
            {
                if (name.Contains(".downsample.", StringComparison.Ordinal))
                {
                    shapes.Add((name, conv, blockH, blockW));
                }
                else
                {
                    shapes.Add((name, conv, h, w));
                    (h, w) = Output(conv, h, w);
                }
            }
        }

        return shapes
            .GroupBy(s =>
                (
                    s.Conv.in_channels,
                    s.Conv.out_channels,
                    Kernel: s.Conv.kernel_size[0],
                    Stride: s.Conv.stride[0],
                    Padding: s.Conv.padding?[0] ?? 0L,
                    s.H,
                    s.W
                )
            )
            .Select(g => new ConvolutionShape(
                g.Select(s => s.Name).ToArray(),
                g.Key.in_channels,
                g.Key.out_channels,
                g.Key.Kernel,
                g.Key.Stride,
                g.Key.Padding,
                g.Key.H,
                g.Key.W
            ))
            .ToList();
    }

    private static (long H, long W) Output(Conv2d conv, long h, long w)
    {
        long padding = conv.padding?[0] ?? 0,
            kernel = conv.kernel_size[0],
            stride = conv.stride[0];
        return (((h + (2 * padding) - kernel) / stride) + 1, ((w + (2 * padding) - kernel) / stride) + 1);
    }

    private static long Pooled(long size) => ((size + 2 - 3) / 2) + 1;
}
