namespace TiledEnsemble;

/// <summary>
/// A replaceable step of the tiled-ensemble pipeline (tiler, joiner, seam smoother, post-processor, model). A run
/// records every stage's <see cref="Identity"/>, and loading it checks that the stages given are the same.
/// </summary>
/// <remarks>
/// Stages are immutable once built and are called from several threads at once (concurrent predictions); an
/// implementation keeps no state that a call changes.
/// </remarks>
public interface IPipelineStage
{
    /// <summary>The stage's name and the settings that change its results.</summary>
    StageIdentity Identity { get; }
}
