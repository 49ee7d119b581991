using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Tiling;

/// <summary>
/// The tiler of the ensemble and the default <see cref="ITiler"/>: tiles grouped by grid position, so that the model of
/// position (i, j) gets the batch <c>tiles[i, j]</c>. Always pads (right/bottom zeros) when the grid does not cover the
/// image, as anomalib does. As a pipeline stage it needs the image size.
/// </summary>
public sealed class EnsembleTiler : ITiler
{
    /// <summary>The name runs record for this tiler.</summary>
    public const string StageName = "ensemble_tiler";

    /// <summary>Creates an ensemble tiler.</summary>
    /// <param name="tileSize">Tile size.</param>
    /// <param name="stride">Step between tile starts; no larger than the tile.</param>
    /// <param name="imageSize">The image size (after resizing to image_size). Without it,
    /// <see cref="Untile(Tensor, Size2D)"/> must be told.</param>
    public EnsembleTiler(Size2D tileSize, Size2D stride, Size2D? imageSize = null)
    {
        TileGrid.Validate(tileSize, stride);
        TileSize = tileSize;
        Stride = stride;
        Grid = imageSize is { } size ? TileGrid.Create(size, tileSize, stride) : null;
    }

    /// <summary>Tile size.</summary>
    public Size2D TileSize { get; }

    /// <summary>Step between tile starts.</summary>
    public Size2D Stride { get; }

    /// <summary>The grid for the image size given at construction, or null when none was given.</summary>
    public TileGrid? Grid { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">No image size was given at construction.</exception>
    public StageIdentity Identity =>
        new(
            StageName,
            new Dictionary<string, string>
            {
                ["image_size"] = RequireGrid().ImageSize.ToString(),
                ["tile_size"] = TileSize.ToString(),
                ["stride"] = Stride.ToString(),
            }
        );

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">No image size was given at construction.</exception>
    TileGrid ITiler.Grid => RequireGrid();

    /// <summary>Every position with its pixel offset, row-major.</summary>
    /// <exception cref="InvalidOperationException">No image size was given at construction.</exception>
    public IReadOnlyList<TilePosition> TilePositions => RequireGrid().Positions;

    /// <summary>The grid for an image of <paramref name="imageSize"/>.</summary>
    public TileGrid GridFor(Size2D imageSize) => TileGrid.Create(imageSize, TileSize, Stride);

    /// <summary>Cuts images into tiles grouped by position.</summary>
    /// <param name="images">[B, C, H, W], or [C, H, W] for one image.</param>
    /// <returns>[nH, nW, B, C, th, tw].</returns>
    public Tensor Tile(Tensor images)
    {
        using var scope = NewDisposeScope();
        var batch = Tiler.AsBatch(images, nameof(images));
        var grid = GridFor(new Size2D((int)batch.shape[2], (int)batch.shape[3]));
        if (Grid is { } expected && expected.ImageSize != grid.ImageSize)
        {
            throw new ArgumentException(
                $"images are {grid.ImageSize} but this tiler was built for {expected.ImageSize}.",
                nameof(images)
            );
        }

        var tiles = TileLayout
            .Unfold(TileLayout.ToCovering(batch, grid, TilingMode.Padding), grid)
            .permute(2, 3, 0, 1, 4, 5)
            .contiguous();
        return tiles.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The tiles of one position only, [B, C, th, tw], without cutting the others: what training one position needs.
    /// Equal to <c>Tile(images)[row, column]</c>.
    /// </summary>
    public Tensor TileAt(Tensor images, TilePosition position)
    {
        using var scope = NewDisposeScope();
        var batch = Tiler.AsBatch(images, nameof(images));
        var grid = GridFor(new Size2D((int)batch.shape[2], (int)batch.shape[3]));
        return Cut(batch, grid, position).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The tiles of <paramref name="position"/> of any grid, [B, C, th, tw], zero-padded where the tile reaches past
    /// the image: the cut that <see cref="TileAt"/> makes, for tilers of other layouts.
    /// </summary>
    /// <param name="images">[B, C, H, W] at the grid's image size.</param>
    /// <param name="grid">The layout.</param>
    /// <param name="position">One of the grid's positions.</param>
    /// <exception cref="ArgumentException">The images are not of the grid's size, or the position is not in the
    /// grid.</exception>
    public static Tensor Cut(Tensor images, TileGrid grid, TilePosition position)
    {
        ArgumentNullException.ThrowIfNull(grid);
        TensorGuard.Rank(images, 4, nameof(images), "[B, C, H, W]");
        if (images.shape[2] != grid.ImageSize.Height || images.shape[3] != grid.ImageSize.Width)
        {
            throw new ArgumentException(
                $"images are {images.shape[2]}x{images.shape[3]} but the grid is for {grid.ImageSize}.",
                nameof(images)
            );
        }

        if (
            (uint)position.Row >= (uint)grid.Rows
            || (uint)position.Column >= (uint)grid.Columns
            || grid[position.Row, position.Column] != position
        )
        {
            throw new ArgumentException($"Position {position} is not a position of the grid {grid}.", nameof(position));
        }

        using var scope = NewDisposeScope();
        var size = grid.TileSize;
        int top = position.Top,
            left = position.Left;
        int height = Math.Min(size.Height, grid.ImageSize.Height - top),
            width = Math.Min(size.Width, grid.ImageSize.Width - left);
        var tile = images.narrow(2, top, height).narrow(3, left, width);
        if (height < size.Height || width < size.Width)
        {
            // The tile reaches into the zero padding of a non-covering grid.
            tile = TorchSharp.torch.nn.functional.pad(
                tile,
                new long[] { 0, size.Width - width, 0, size.Height - height }
            );
        }

        return tile.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Joins position-grouped tiles back using the image size given at construction.</summary>
    /// <exception cref="InvalidOperationException">No image size was given at construction.</exception>
    public Tensor Untile(Tensor tiles) => Untile(tiles, RequireGrid().ImageSize);

    /// <summary>
    /// Joins position-grouped tiles back into images, averaging overlaps. Tiles may be at another scale than the grid
    /// (feature maps); the result then has the image size times <c>actual / tile</c>.
    /// </summary>
    /// <param name="tiles">[nH, nW, B, C, h, w], floating point.</param>
    /// <param name="imageSize">The image size the tiles came from.</param>
    /// <returns>[B, C, H·h/th, W·w/tw].</returns>
    public Tensor Untile(Tensor tiles, Size2D imageSize)
    {
        TensorGuard.Rank(tiles, 6, nameof(tiles), "[nH, nW, B, C, h, w]");
        var grid = GridFor(imageSize);
        if (tiles.shape[0] != grid.Rows || tiles.shape[1] != grid.Columns)
        {
            throw new ArgumentException(
                $"tiles has a {tiles.shape[0]}x{tiles.shape[1]} grid of positions, but {imageSize} with tile "
                    + $"{TileSize} and stride {Stride} needs {grid.Rows}x{grid.Columns}.",
                nameof(tiles)
            );
        }

        using var scope = NewDisposeScope();
        var byImage = tiles
            .reshape(grid.Count, tiles.shape[2], tiles.shape[3], tiles.shape[4], tiles.shape[5])
            .permute(1, 0, 2, 3, 4);
        var (canvas, scaled) = TileLayout.Fold(byImage, grid, 0, nameof(tiles));
        return TileLayout.FromCovering(canvas, grid, TilingMode.Padding, scaled).MoveToOuterDisposeScope();
    }

    private TileGrid RequireGrid() =>
        Grid
        ?? throw new InvalidOperationException(
            "This ensemble tiler was built without an image size; pass imageSize to the constructor or to Untile."
        );
}
