using System;
using System.Collections.Generic;
using TiledEnsemble.Joining;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Samples.CustomPipeline;

/// <summary>
/// A seam smoother that replaces the pixels within <c>halfWidth</c> of every internal tile border by the mean of the
/// <c>size</c> × <c>size</c> box around them (edges replicated); every other pixel is kept as it is.
/// </summary>
public sealed class BoxSeamSmoother : ISeamSmoother
{
    /// <summary>Creates the smoother.</summary>
    /// <param name="size">Side of the averaging box, odd, at least 3.</param>
    /// <param name="halfWidth">Pixels on each side of a border that are replaced, at least 1.</param>
    public BoxSeamSmoother(int size = 5, int halfWidth = 4)
    {
        if (size < 3 || size % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The box side must be odd and at least 3.");
        }

        if (halfWidth < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(halfWidth),
                halfWidth,
                "The band's half-width must be at least 1 pixel."
            );
        }

        Size = size;
        HalfWidth = halfWidth;
        Identity = new StageIdentity(
            "samples.box_seam_smoother",
            new Dictionary<string, string>
            {
                ["size"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["half_width"] = halfWidth.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }
        );
    }

    /// <summary>Side of the averaging box.</summary>
    public int Size { get; }

    /// <summary>Pixels on each side of a border that are replaced.</summary>
    public int HalfWidth { get; }

    /// <inheritdoc />
    public StageIdentity Identity { get; }

    /// <inheritdoc />
    public Tensor Smooth(Tensor maps, TileGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        using var scope = NewDisposeScope();
        int pad = Size / 2;
        var padded = F.pad(maps, new long[] { pad, pad, pad, pad }, PaddingModes.Replicate);
        var boxed = F.avg_pool2d(padded, new long[] { Size, Size }, new long[] { 1, 1 });
        var rows = tensor(grid.BorderBand(vertical: true, HalfWidth), device: maps.device);
        var columns = tensor(grid.BorderBand(vertical: false, HalfWidth), device: maps.device);
        var band = rows.unsqueeze(1).logical_or(columns.unsqueeze(0));
        return where(band, boxed, maps).MoveToOuterDisposeScope();
    }
}
