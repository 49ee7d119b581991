using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Tiling;

/// <summary>
/// Cuts batches of images [B, C, H, W] into (possibly overlapping) tiles and joins tiles back, averaging overlaps.
/// Stateless: <see cref="Untile(Tensor, Size2D)"/> needs nothing from an earlier <see cref="Tile"/> call.
/// </summary>
/// <remarks>
/// Tiles are ordered image-major: image 0's tiles row by row ((0,0), (0,1), …), then image 1's; tile <c>k</c> of
/// image <c>b</c> in grid cell (i, j) has flat index <c>b·nH·nW + i·nW + j</c>. Works on any device; results stay on
/// it.
/// </remarks>
public sealed class Tiler
{
    /// <summary>Creates a tiler.</summary>
    /// <param name="tileSize">Tile size; an <see cref="int"/> for square tiles or (height, width).</param>
    /// <param name="stride">Step between tile starts; no larger than <paramref name="tileSize"/>.</param>
    /// <param name="imageSize">Image size, when known: lets <see cref="Untile(Tensor)"/> work without being
    /// told.</param>
    /// <param name="mode">How images that the grid does not cover exactly are handled.</param>
    /// <param name="removeBorderCount">Pixels cut from every tile edge before untiling (as anomalib's tiler).</param>
    /// <exception cref="ArgumentException">Non-positive sizes, stride larger than tile, tile larger than image, or a
    /// negative border.</exception>
    public Tiler(
        Size2D tileSize,
        Size2D stride,
        Size2D? imageSize = null,
        TilingMode mode = TilingMode.Padding,
        int removeBorderCount = 0
    )
    {
        TileGrid.Validate(tileSize, stride);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentException($"mode must be Padding or Interpolation; got {(int)mode}.", nameof(mode));
        }

        if (removeBorderCount < 0 || 2 * removeBorderCount >= Math.Min(tileSize.Height, tileSize.Width))
        {
            throw new ArgumentException(
                $"removeBorderCount must be at least 0 and less than half the tile side ({tileSize}); got "
                    + $"{removeBorderCount}.",
                nameof(removeBorderCount)
            );
        }

        if (imageSize is { } size)
        {
            TileGrid.Create(size, tileSize, stride);
        }

        TileSize = tileSize;
        Stride = stride;
        ImageSize = imageSize;
        Mode = mode;
        RemoveBorderCount = removeBorderCount;
    }

    /// <summary>Tile size.</summary>
    public Size2D TileSize { get; }

    /// <summary>Step between tile starts.</summary>
    public Size2D Stride { get; }

    /// <summary>The image size given at construction, if any.</summary>
    public Size2D? ImageSize { get; }

    /// <summary>How non-covering grids are handled.</summary>
    public TilingMode Mode { get; }

    /// <summary>Pixels cut from each tile edge on untiling.</summary>
    public int RemoveBorderCount { get; }

    /// <summary>The grid for an image of <paramref name="imageSize"/>.</summary>
    public TileGrid GridFor(Size2D imageSize) => TileGrid.Create(imageSize, TileSize, Stride);

    /// <summary>Cuts images into tiles.</summary>
    /// <param name="images">[B, C, H, W], or [C, H, W] for one image.</param>
    /// <returns>[B·nH·nW, C, th, tw], image-major, row-major within an image.</returns>
    public Tensor Tile(Tensor images)
    {
        using var scope = NewDisposeScope();
        var batch = AsBatch(images, nameof(images));
        var grid = GridFor(new Size2D((int)batch.shape[2], (int)batch.shape[3]));
        if (ImageSize is { } expected && expected != grid.ImageSize)
        {
            throw new ArgumentException(
                $"images are {grid.ImageSize} but this tiler was built for {expected}.",
                nameof(images)
            );
        }

        var tiles = TileLayout
            .Unfold(TileLayout.ToCovering(batch, grid, Mode), grid)
            .permute(0, 2, 3, 1, 4, 5)
            .reshape(-1, batch.shape[1], TileSize.Height, TileSize.Width);
        return tiles.MoveToOuterDisposeScope();
    }

    /// <summary>Joins tiles back using the image size given at construction.</summary>
    /// <exception cref="InvalidOperationException">No image size was given at construction.</exception>
    public Tensor Untile(Tensor tiles)
    {
        if (ImageSize is not { } size)
        {
            throw new InvalidOperationException(
                "This tiler was built without an image size; call Untile(tiles, imageSize) or pass imageSize to the "
                    + "constructor."
            );
        }

        return Untile(tiles, size);
    }

    /// <summary>
    /// Joins tiles back into images of <paramref name="imageSize"/>, averaging where tiles overlap (sum divided by the
    /// number of covering tiles). Tiles smaller or larger than <see cref="TileSize"/> (feature maps) are joined at
    /// their own scale: the result is <paramref name="imageSize"/> times <c>actual / tile</c>.
    /// </summary>
    /// <param name="tiles">[B·nH·nW, C, h, w], floating point, in the order <see cref="Tile"/> produces.</param>
    /// <param name="imageSize">The size of the images the tiles came from.</param>
    /// <returns>[B, C, H·h/th, W·w/tw].</returns>
    public Tensor Untile(Tensor tiles, Size2D imageSize)
    {
        TensorGuard.Rank(tiles, 4, nameof(tiles), "[B*nH*nW, C, h, w]");
        var grid = GridFor(imageSize);
        if (tiles.shape[0] == 0 || tiles.shape[0] % grid.Count != 0)
        {
            throw new ArgumentException(
                $"tiles holds {tiles.shape[0]} tiles, which is not a positive multiple of the {grid.Count} positions "
                    + $"of the {grid.Rows}x{grid.Columns} grid for {imageSize}.",
                nameof(tiles)
            );
        }

        using var scope = NewDisposeScope();
        long batch = tiles.shape[0] / grid.Count;
        var (canvas, scaled) = TileLayout.Fold(
            tiles.reshape(batch, grid.Count, tiles.shape[1], tiles.shape[2], tiles.shape[3]),
            grid,
            RemoveBorderCount,
            nameof(tiles)
        );
        return TileLayout.FromCovering(canvas, grid, Mode, scaled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Crops <paramref name="count"/> tiles per image at random positions (uniform over all placements inside the
    /// image), reproducibly for a <paramref name="seed"/>. Used for augmentation, not for the ensemble grid.
    /// </summary>
    /// <returns>[B·count, C, th, tw], image-major.</returns>
    public Tensor RandomTiles(Tensor images, int count, int seed)
    {
        if (count <= 0)
        {
            throw new ArgumentException($"count must be positive; got {count}.", nameof(count));
        }

        using var scope = NewDisposeScope();
        var batch = AsBatch(images, nameof(images));
        var grid = GridFor(new Size2D((int)batch.shape[2], (int)batch.shape[3]));
        var random = new Random(seed);
        var crops = new Tensor[batch.shape[0] * count];
        for (long b = 0; b < batch.shape[0]; b++)
        {
            for (int k = 0; k < count; k++)
            {
                int top = random.Next(grid.ImageSize.Height - TileSize.Height + 1);
                int left = random.Next(grid.ImageSize.Width - TileSize.Width + 1);
                crops[(b * count) + k] = batch[b, .., top..(top + TileSize.Height), left..(left + TileSize.Width)];
            }
        }

        return stack(crops).MoveToOuterDisposeScope();
    }

    internal static Tensor AsBatch(Tensor images, string name)
    {
        TensorGuard.NotNull(images, name);
        if (images.dim() == 3)
        {
            return images.unsqueeze(0);
        }

        TensorGuard.Rank(images, 4, name, "[B, C, H, W] or [C, H, W]");
        return images;
    }
}
