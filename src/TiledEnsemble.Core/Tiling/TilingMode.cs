namespace TiledEnsemble.Tiling;

/// <summary>How an image that the tile grid does not cover exactly is brought to a covering size.</summary>
public enum TilingMode
{
    /// <summary>Zero-pad right and bottom before tiling; crop back after untiling. Exact round trip.</summary>
    Padding,

    /// <summary>Resize (bilinear) up to the covering size before tiling and back after untiling.</summary>
    Interpolation,
}
