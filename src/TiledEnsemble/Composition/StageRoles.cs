using System.Collections.Generic;

namespace TiledEnsemble;

/// <summary>The roles of the stages, as runs record them.</summary>
internal static class StageRoles
{
    public const string Tiler = "tiler";
    public const string Joiner = "joiner";
    public const string SeamSmoother = "seam_smoother";
    public const string PostProcessor = "post_processor";
    public const string Model = "model";

    /// <summary>The identity recorded for "no seam smoothing".</summary>
    public static readonly StageIdentity NoSeamSmoothing = new("none");

    public static IReadOnlyList<string> All { get; } = new[] { Tiler, Joiner, SeamSmoother, PostProcessor, Model };

    /// <summary>The property of <see cref="EnsembleLoadOptions"/> that gives the stage of
    /// <paramref name="role"/>.</summary>
    public static string Property(string role) =>
        role switch
        {
            Tiler => nameof(EnsembleLoadOptions.Tiler),
            Joiner => nameof(EnsembleLoadOptions.Joiner),
            SeamSmoother => nameof(EnsembleLoadOptions.SeamSmoother),
            PostProcessor => nameof(EnsembleLoadOptions.PostProcessor),
            _ => nameof(EnsembleLoadOptions.Model),
        };
}
