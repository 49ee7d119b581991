using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>
/// Hides tile seams in joined anomaly maps. The default, <see cref="SeamSmoother"/>, blurs bands around the internal
/// tile borders; scores, masks and labels are never touched by this stage.
/// </summary>
/// <remarks>
/// The input belongs to the caller and is not changed or disposed; the result is a new tensor on the input's device
/// that belongs to the caller. Implementations are immutable and thread-safe.
/// </remarks>
public interface ISeamSmoother : IPipelineStage
{
    /// <summary>Smooths the seams of joined maps.</summary>
    /// <param name="maps">[B, 1, H, W] floating point, at the grid's image size.</param>
    /// <param name="grid">The layout the maps were joined from.</param>
    /// <returns>[B, 1, H, W], a new tensor.</returns>
    Tensor Smooth(Tensor maps, TileGrid grid);
}
