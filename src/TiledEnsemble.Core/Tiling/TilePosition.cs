namespace TiledEnsemble.Tiling;

/// <summary>One cell of the tile grid: its (row, column) index and the pixel offset of its top-left corner.</summary>
/// <param name="Row">Grid row, from 0 at the top.</param>
/// <param name="Column">Grid column, from 0 at the left.</param>
/// <param name="Top">First pixel row of the tile in the (padded) image.</param>
/// <param name="Left">First pixel column of the tile in the (padded) image.</param>
public readonly record struct TilePosition(int Row, int Column, int Top, int Left)
{
    /// <inheritdoc />
    public override string ToString() => $"({Row}, {Column}) at y={Top}, x={Left}";
}
