namespace TiledEnsemble.Configuration;

/// <summary>Seam smoothing settings (bindable; the seed configuration's <c>SeamSmoothing</c>).</summary>
public sealed class SeamSmoothingSettings
{
    /// <summary>Whether to smooth seams (default true).</summary>
    public bool Apply { get; set; } = true;

    /// <summary>Gaussian sigma in pixels (default 2).</summary>
    public double Sigma { get; set; } = 2;

    /// <summary>Band half-width as a fraction of the tile (default 0.1).</summary>
    public double Width { get; set; } = 0.1;
}
