namespace TiledEnsemble.PostProcessing;

/// <summary>
/// How each tile position's maps are standardized before joining, from the good validation tiles of that position
/// (see <see cref="PositionStandardizer"/>). Positions differ in their baseline (edges, repeating structure, padding);
/// standardized, a peak in one position is measured against that position's own normal variation.
/// </summary>
public enum PositionCalibration
{
    /// <summary>No calibration: maps are joined in the model's units (anomalib's way; the default).</summary>
    None,

    /// <summary>Each position's maps and tile scores become z-scores of that position's good validation map pixels:
    /// <c>(x − mean) / deviation</c>, one mean and deviation per position. Suits textures and aligned parts
    /// alike.</summary>
    PerPosition,

    /// <summary>
    /// Each map pixel becomes a z-score of that pixel's good validation values (its deviation shrunk toward the
    /// position's, so that few images still give a usable estimate); tile scores as with <see cref="PerPosition"/>.
    /// Suits aligned parts, where a pixel shows the same feature in every image; on textures taken at random offsets
    /// it removes little but noise.
    /// </summary>
    PerPixel,
}
