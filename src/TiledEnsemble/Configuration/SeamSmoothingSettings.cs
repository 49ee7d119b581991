using TiledEnsemble.Joining;

namespace TiledEnsemble.Configuration;

/// <summary>Seam smoothing settings (bindable; the seed configuration's <c>SeamSmoothing</c>).</summary>
public sealed class SeamSmoothingSettings
{
    /// <summary>Whether to smooth seams (default true).</summary>
    public bool Apply { get; set; } = true;

    /// <summary>Gaussian sigma in pixels (default <see cref="SeamSmoother.DefaultSigma"/>).</summary>
    public double Sigma { get; set; } = SeamSmoother.DefaultSigma;

    /// <summary>Band half-width as a fraction of the tile (default <see cref="SeamSmoother.DefaultWidth"/>).</summary>
    public double Width { get; set; } = SeamSmoother.DefaultWidth;

    /// <summary>A copy.</summary>
    public SeamSmoothingSettings Clone() =>
        new()
        {
            Apply = Apply,
            Sigma = Sigma,
            Width = Width,
        };
}
