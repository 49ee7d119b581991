using System;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Tiling;

/// <summary>The tensor operations shared by <see cref="Tiler"/> and <see cref="EnsembleTiler"/>.</summary>
internal static class TileLayout
{
    /// <summary>Brings images [B,C,H,W] to the grid's covering size.</summary>
    public static Tensor ToCovering(Tensor images, TileGrid grid, TilingMode mode)
    {
        if (grid.CoversExactly)
        {
            return images.alias();
        }

        var covering = grid.CoveringSize;
        if (mode == TilingMode.Padding)
        {
            return F.pad(
                images,
                new long[] { 0, covering.Width - grid.ImageSize.Width, 0, covering.Height - grid.ImageSize.Height }
            );
        }

        TensorGuard.FloatingPoint(images, "images");
        return F.interpolate(
            images,
            new long[] { covering.Height, covering.Width },
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
    }

    /// <summary>Takes an untiled canvas (at the covering size, possibly scaled) back to the image size.</summary>
    public static Tensor FromCovering(Tensor canvas, TileGrid grid, TilingMode mode, Size2D target)
    {
        if (grid.CoversExactly)
        {
            return canvas;
        }

        if (mode == TilingMode.Padding)
        {
            return canvas[.., .., ..target.Height, ..target.Width];
        }

        return F.interpolate(
            canvas,
            new long[] { target.Height, target.Width },
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
    }

    /// <summary>A view [B, C, nH, nW, th, tw] of the tiles of a covering-size batch.</summary>
    public static Tensor Unfold(Tensor covering, TileGrid grid)
    {
        using var rows = covering.unfold(2, grid.TileSize.Height, grid.Stride.Height);
        return rows.unfold(3, grid.TileSize.Width, grid.Stride.Width);
    }

    /// <summary>
    /// Sums tiles laid out as [B, L, C, h, w] (L = positions, row-major) onto the canvas and divides by the number of
    /// tiles covering each pixel. Tiles may be a scaled version of the grid's tiles (feature maps): the canvas and
    /// stride scale by the same factor. <paramref name="removeBorder"/> pixels of each tile edge are left out. Returns
    /// the canvas and the image size at the tiles' scale.
    /// </summary>
    public static (Tensor Canvas, Size2D ScaledImage) Fold(
        Tensor tiles,
        TileGrid grid,
        int removeBorder,
        string parameterName
    )
    {
        TensorGuard.FloatingPoint(tiles, parameterName);
        long batch = tiles.shape[0],
            positions = tiles.shape[1],
            channels = tiles.shape[2];
        int h = checked((int)tiles.shape[3]),
            w = checked((int)tiles.shape[4]);
        var strideH = Scale(grid.Stride.Height, h, grid.TileSize.Height, "stride height", parameterName);
        var strideW = Scale(grid.Stride.Width, w, grid.TileSize.Width, "stride width", parameterName);
        var canvas = new Size2D(
            Scale(grid.CoveringSize.Height, h, grid.TileSize.Height, "image height", parameterName),
            Scale(grid.CoveringSize.Width, w, grid.TileSize.Width, "image width", parameterName)
        );
        var image = new Size2D(
            Scale(grid.ImageSize.Height, h, grid.TileSize.Height, "image height", parameterName),
            Scale(grid.ImageSize.Width, w, grid.TileSize.Width, "image width", parameterName)
        );
        if (removeBorder > 0 && (2 * removeBorder >= h || 2 * removeBorder >= w))
        {
            throw new ArgumentException(
                $"removeBorderCount {removeBorder} removes whole tiles of {h}x{w}; it must be less than half the "
                    + $"tile side.",
                parameterName
            );
        }

        using var scope = NewDisposeScope();
        var columns = tiles.reshape(batch, positions, channels * h * w).permute(0, 2, 1);
        var weights = ones(new long[] { 1, 1, h, w }, tiles.dtype, tiles.device);
        if (removeBorder > 0)
        {
            weights = zeros_like(weights);
            weights[.., .., removeBorder..(h - removeBorder), removeBorder..(w - removeBorder)] = 1;
            columns = columns * weights.reshape(1, h * w, 1).repeat(1, channels, 1);
        }

        var outputSize = (canvas.Height, canvas.Width);
        var kernel = ((long)h, (long)w);
        var stride = ((long)strideH, (long)strideW);
        var sum = F.fold(columns, outputSize, kernel, stride: stride);
        var counts = F.fold(
            weights.reshape(1, h * w, 1).expand(1, h * w, positions),
            outputSize,
            kernel,
            stride: stride
        );

        // Pixels that no tile covers (possible only with removed borders) get count 0 and sum 0, hence 0.
        return ((sum / counts.clamp_min(Scalars.One)).MoveToOuterDisposeScope(), image);
    }

    private static int Scale(int value, int actual, int nominal, string what, string parameterName)
    {
        long scaled = (long)value * actual;
        if (scaled % nominal != 0)
        {
            throw new ArgumentException(
                $"{parameterName} has tiles of {actual} pixels where the grid has {nominal}; the {what} {value} does "
                    + $"not scale to a whole number of pixels by {actual}/{nominal}.",
                parameterName
            );
        }

        return checked((int)(scaled / nominal));
    }
}
