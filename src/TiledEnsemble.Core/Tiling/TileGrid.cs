using System;
using System.Collections.Generic;

namespace TiledEnsemble.Tiling;

/// <summary>
/// The layout of tiles over an image: how many rows and columns of tiles, where each one starts, and the smallest
/// size that the grid covers exactly. Immutable; computed from the image size, tile size and stride alone.
/// </summary>
/// <remarks>
/// Per axis with edge <c>E</c>, tile <c>T</c> and stride <c>S</c>: tiles per edge <c>n = ceil((E - T) / S) + 1</c>,
/// tile starts <c>0, S, 2S, …</c>, covering edge <c>E' = (n - 1)·S + T</c> (equal to <c>E</c> when the grid fits).
/// </remarks>
public sealed class TileGrid
{
    private readonly TilePosition[] _positions;

    private TileGrid(Size2D imageSize, Size2D tileSize, Size2D stride, int rows, int columns)
    {
        ImageSize = imageSize;
        TileSize = tileSize;
        Stride = stride;
        Rows = rows;
        Columns = columns;
        CoveringSize = new Size2D((rows - 1) * stride.Height + tileSize.Height, (columns - 1) * stride.Width + tileSize.Width);
        _positions = new TilePosition[rows * columns];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                _positions[(i * columns) + j] = new TilePosition(i, j, i * stride.Height, j * stride.Width);
            }
        }
    }

    /// <summary>The image size the grid was made for.</summary>
    public Size2D ImageSize { get; }

    /// <summary>Size of one tile.</summary>
    public Size2D TileSize { get; }

    /// <summary>Step between the starts of neighbouring tiles.</summary>
    public Size2D Stride { get; }

    /// <summary>Tiles along the height (nH).</summary>
    public int Rows { get; }

    /// <summary>Tiles along the width (nW).</summary>
    public int Columns { get; }

    /// <summary>Number of tile positions, <c>Rows * Columns</c>.</summary>
    public int Count => Rows * Columns;

    /// <summary>The smallest size at least <see cref="ImageSize"/> that the grid covers exactly.</summary>
    public Size2D CoveringSize { get; }

    /// <summary>Whether the grid covers <see cref="ImageSize"/> exactly (no padding or resizing needed).</summary>
    public bool CoversExactly => CoveringSize == ImageSize;

    /// <summary>Every position, row-major: (0,0), (0,1), …, (1,0), ….</summary>
    public IReadOnlyList<TilePosition> Positions => _positions;

    /// <summary>The position at grid row <paramref name="row"/> and column <paramref name="column"/>.</summary>
    public TilePosition this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)column >= (uint)Columns)
            {
                throw new ArgumentOutOfRangeException(nameof(row), $"Tile ({row}, {column}) is outside the {Rows}x{Columns} grid.");
            }

            return _positions[(row * Columns) + column];
        }
    }

    /// <summary>Builds and validates a grid.</summary>
    /// <exception cref="ArgumentException">A size is not positive, the stride exceeds the tile (gaps), or the tile exceeds the image.</exception>
    public static TileGrid Create(Size2D imageSize, Size2D tileSize, Size2D stride)
    {
        Validate(tileSize, stride);
        imageSize.EnsurePositive(nameof(imageSize));
        if (tileSize.Height > imageSize.Height || tileSize.Width > imageSize.Width)
        {
            throw new ArgumentException($"tileSize {tileSize} is larger than the image {imageSize}; a tile must fit inside the image.", nameof(tileSize));
        }

        return new TileGrid(imageSize, tileSize, stride, CountAlong(imageSize.Height, tileSize.Height, stride.Height), CountAlong(imageSize.Width, tileSize.Width, stride.Width));
    }

    /// <summary>Checks a tile size and stride on their own (no image yet).</summary>
    /// <exception cref="ArgumentException">A size is not positive or the stride exceeds the tile.</exception>
    public static void Validate(Size2D tileSize, Size2D stride)
    {
        tileSize.EnsurePositive(nameof(tileSize));
        stride.EnsurePositive(nameof(stride));
        if (stride.Height > tileSize.Height || stride.Width > tileSize.Width)
        {
            throw new ArgumentException($"stride {stride} is larger than tileSize {tileSize}: pixels between tiles would belong to no tile. Use a stride no larger than the tile.", nameof(stride));
        }
    }

    /// <summary>
    /// Pixel coordinates (along one axis) of every tile border strictly inside the image: tile starts and tile ends.
    /// These are where the overlap count changes and seams can appear.
    /// </summary>
    /// <param name="vertical">True for row coordinates (borders between tile rows), false for column coordinates.</param>
    public IReadOnlyList<int> InternalBorders(bool vertical)
    {
        int edge = vertical ? ImageSize.Height : ImageSize.Width;
        int tile = vertical ? TileSize.Height : TileSize.Width;
        int step = vertical ? Stride.Height : Stride.Width;
        int count = vertical ? Rows : Columns;
        var borders = new SortedSet<int>();
        for (int k = 0; k < count; k++)
        {
            int start = k * step;
            int end = start + tile;
            if (start > 0 && start < edge)
            {
                borders.Add(start);
            }

            if (end > 0 && end < edge)
            {
                borders.Add(end);
            }
        }

        return new List<int>(borders);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Rows}x{Columns} tiles of {TileSize} with stride {Stride} over {ImageSize} (covering {CoveringSize})";

    private static int CountAlong(int edge, int tile, int stride) => ((edge - tile + stride - 1) / stride) + 1;
}
