namespace TiledEnsemble.PostProcessing;

/// <summary>Where in the pipeline normalization or thresholding happens.</summary>
public enum Stage
{
    /// <summary>Not at all (normalization only).</summary>
    None,

    /// <summary>Per tile position, from that position's validation tiles, before joining.</summary>
    Tile,

    /// <summary>After joining, from the joined validation predictions (the default).</summary>
    Image,
}
