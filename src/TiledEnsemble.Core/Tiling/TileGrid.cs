using System;
using System.Collections.Generic;
using System.Linq;

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
    private readonly int[] _rowStarts;
    private readonly int[] _columnStarts;

    private TileGrid(
        Size2D imageSize,
        Size2D tileSize,
        Size2D stride,
        int[] rowStarts,
        int[] columnStarts,
        bool regular
    )
    {
        ImageSize = imageSize;
        TileSize = tileSize;
        Stride = stride;
        IsRegular = regular;
        _rowStarts = rowStarts;
        _columnStarts = columnStarts;
        Rows = rowStarts.Length;
        Columns = columnStarts.Length;
        CoveringSize = new Size2D(
            Math.Max(imageSize.Height, rowStarts[^1] + tileSize.Height),
            Math.Max(imageSize.Width, columnStarts[^1] + tileSize.Width)
        );
        _positions = new TilePosition[Rows * Columns];
        for (int i = 0; i < Rows; i++)
        {
            for (int j = 0; j < Columns; j++)
            {
                _positions[(i * Columns) + j] = new TilePosition(i, j, rowStarts[i], columnStarts[j]);
            }
        }
    }

    /// <summary>The image size the grid was made for.</summary>
    public Size2D ImageSize { get; }

    /// <summary>Size of one tile.</summary>
    public Size2D TileSize { get; }

    /// <summary>
    /// Step between the starts of neighbouring tiles; for a grid made from explicit starts (<see cref="IsRegular"/>
    /// false), the smallest such step (the tile size along an axis with one tile).
    /// </summary>
    public Size2D Stride { get; }

    /// <summary>
    /// Whether tiles start at <c>0, S, 2S, …</c> along both axes (<see cref="Create"/>); false for a grid made from
    /// explicit starts (<see cref="FromStarts"/>).
    /// </summary>
    public bool IsRegular { get; }

    /// <summary>The first pixel row of every tile row, increasing.</summary>
    public IReadOnlyList<int> RowStarts => _rowStarts;

    /// <summary>The first pixel column of every tile column, increasing.</summary>
    public IReadOnlyList<int> ColumnStarts => _columnStarts;

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
                throw new ArgumentOutOfRangeException(
                    nameof(row),
                    $"Tile ({row}, {column}) is outside the {Rows}x{Columns} grid."
                );
            }

            return _positions[(row * Columns) + column];
        }
    }

    /// <summary>Builds and validates a grid.</summary>
    /// <exception cref="ArgumentException">A size is not positive, the stride exceeds the tile (gaps), or the tile
    /// exceeds the image.</exception>
    public static TileGrid Create(Size2D imageSize, Size2D tileSize, Size2D stride)
    {
        Validate(tileSize, stride);
        imageSize.EnsurePositive(nameof(imageSize));
        if (tileSize.Height > imageSize.Height || tileSize.Width > imageSize.Width)
        {
            throw new ArgumentException(
                $"tileSize {tileSize} is larger than the image {imageSize}; a tile must fit inside the image.",
                nameof(tileSize)
            );
        }

        return new TileGrid(
            imageSize,
            tileSize,
            stride,
            RegularStarts(CountAlong(imageSize.Height, tileSize.Height, stride.Height), stride.Height),
            RegularStarts(CountAlong(imageSize.Width, tileSize.Width, stride.Width), stride.Width),
            regular: true
        );
    }

    /// <summary>
    /// A grid of explicit tile starts (a layout aligned to a part's fiducials, say): tile row <c>i</c> starts at pixel
    /// row <c>rowStarts[i]</c>, tile column <c>j</c> at pixel column <c>columnStarts[j]</c>. Every tile lies inside the
    /// image; pixels no tile covers get 0 in joined maps.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A size is not positive, a list is empty or not strictly increasing, a start is negative, or a tile reaches past
    /// the image.
    /// </exception>
    public static TileGrid FromStarts(
        Size2D imageSize,
        Size2D tileSize,
        IReadOnlyList<int> rowStarts,
        IReadOnlyList<int> columnStarts
    )
    {
        ArgumentNullException.ThrowIfNull(rowStarts);
        ArgumentNullException.ThrowIfNull(columnStarts);
        imageSize.EnsurePositive(nameof(imageSize));
        tileSize.EnsurePositive(nameof(tileSize));
        int rowStep = CheckStarts(rowStarts, tileSize.Height, imageSize.Height, nameof(rowStarts));
        int columnStep = CheckStarts(columnStarts, tileSize.Width, imageSize.Width, nameof(columnStarts));
        return new TileGrid(
            imageSize,
            tileSize,
            new Size2D(rowStep, columnStep),
            rowStarts.ToArray(),
            columnStarts.ToArray(),
            regular: false
        );
    }

    private static int[] RegularStarts(int count, int step)
    {
        var starts = new int[count];
        for (int k = 0; k < count; k++)
        {
            starts[k] = k * step;
        }

        return starts;
    }

    /// <summary>Checks explicit starts along one axis; returns the smallest step (the tile when there is one
    /// start).</summary>
    private static int CheckStarts(IReadOnlyList<int> starts, int tile, int edge, string name)
    {
        if (starts.Count == 0)
        {
            throw new ArgumentException($"{name} is empty; a grid needs at least one tile along each axis.", name);
        }

        int step = tile;
        for (int k = 0; k < starts.Count; k++)
        {
            if (starts[k] < 0 || starts[k] > edge - tile)
            {
                throw new ArgumentException(
                    $"{name}[{k}] is {starts[k]}; a tile of {tile} must lie inside the image edge of {edge}, so starts "
                        + $"are in 0..{edge - tile}.",
                    name
                );
            }

            if (k > 0 && starts[k] <= starts[k - 1])
            {
                throw new ArgumentException(
                    $"{name} must increase strictly; {name}[{k}] is {starts[k]} after {starts[k - 1]}.",
                    name
                );
            }

            if (k > 0)
            {
                step = Math.Min(step, starts[k] - starts[k - 1]);
            }
        }

        return step;
    }

    /// <summary>Checks a tile size and stride on their own (no image yet).</summary>
    /// <exception cref="ArgumentException">A size is not positive or the stride exceeds the tile.</exception>
    public static void Validate(Size2D tileSize, Size2D stride)
    {
        tileSize.EnsurePositive(nameof(tileSize));
        stride.EnsurePositive(nameof(stride));
        if (stride.Height > tileSize.Height || stride.Width > tileSize.Width)
        {
            throw new ArgumentException(
                $"stride {stride} is larger than tileSize {tileSize}: pixels between tiles would belong to no tile. "
                    + $"Use a stride no larger than the tile.",
                nameof(stride)
            );
        }
    }

    /// <summary>
    /// Pixel coordinates (along one axis) of every tile border strictly inside the image: tile starts and tile ends.
    /// These are where the overlap count changes and seams can appear.
    /// </summary>
    /// <param name="vertical">True for row coordinates (borders between tile rows), false for column
    /// coordinates.</param>
    public IReadOnlyList<int> InternalBorders(bool vertical)
    {
        int edge = vertical ? ImageSize.Height : ImageSize.Width;
        int tile = vertical ? TileSize.Height : TileSize.Width;
        var borders = new SortedSet<int>();
        foreach (int start in vertical ? _rowStarts : _columnStarts)
        {
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

    /// <summary>
    /// Which rows (<paramref name="vertical"/>) or columns lie in a band around an internal border: for every border
    /// <c>c</c> of <see cref="InternalBorders"/>, <c>[c − halfWidth, c + halfWidth)</c>, clipped to the image: what
    /// seam smoothers replace.
    /// </summary>
    /// <returns>One flag per row (column) of the image.</returns>
    public bool[] BorderBand(bool vertical, int halfWidth)
    {
        int length = vertical ? ImageSize.Height : ImageSize.Width;
        var band = new bool[length];
        foreach (int border in InternalBorders(vertical))
        {
            for (int k = Math.Max(0, border - halfWidth); k < Math.Min(length, border + halfWidth); k++)
            {
                band[k] = true;
            }
        }

        return band;
    }

    /// <inheritdoc />
    public override string ToString() =>
        IsRegular
            ? $"{Rows}x{Columns} tiles of {TileSize} with stride {Stride} over {ImageSize} (covering {CoveringSize})"
            : $"{Rows}x{Columns} tiles of {TileSize} over {ImageSize} at rows [{string.Join(", ", _rowStarts)}] "
                + $"and columns [{string.Join(", ", _columnStarts)}]";

    private static int CountAlong(int edge, int tile, int stride) => ((edge - tile + stride - 1) / stride) + 1;
}
