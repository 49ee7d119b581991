namespace TiledEnsemble.Data.Imaging;

/// <summary>The channels <see cref="ImageIO.ReadImage"/> returns.</summary>
public enum ColorMode
{
    /// <summary>Three channels; gray images are replicated, alpha is dropped. What the models take.</summary>
    Rgb,

    /// <summary>One channel; colour images are converted with the ITU-R BT.601 luma weights.</summary>
    Gray,

    /// <summary>As stored: 1 (gray), 3 (colour) or 4 (colour with alpha).</summary>
    Unchanged,
}
