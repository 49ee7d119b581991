using static TorchSharp.torch;

namespace TiledEnsemble.Tiling;

/// <summary>
/// Where the tiles of an ensemble lie, and how a position's tiles are cut from images at the image size. One model is
/// trained per position of <see cref="Grid"/>; the joiner puts each position's predictions back at its start.
/// </summary>
/// <remarks>
/// The default is <see cref="EnsembleTiler"/> (a regular grid of tile and stride, zero-padded where it overhangs the
/// image). A tiler of a fixed layout (a grid aligned to a part's fiducials) builds its grid with
/// <see cref="TileGrid.FromStarts"/>. The layout is the same for every image; align images before prediction when parts
/// move. Implementations are immutable and thread-safe.
/// </remarks>
public interface ITiler : IPipelineStage
{
    /// <summary>The positions, their starts and the tile size, for images of the ensemble's image size.</summary>
    TileGrid Grid { get; }

    /// <summary>Cuts the tiles of one position.</summary>
    /// <param name="images">[B, C, H, W] images at the grid's image size, on any device (not disposed).</param>
    /// <param name="position">A position of <see cref="Grid"/>.</param>
    /// <returns>[B, C, th, tw] on the images' device, owned by the caller (a new tensor, not a view of the
    /// images).</returns>
    Tensor TileAt(Tensor images, TilePosition position);
}
