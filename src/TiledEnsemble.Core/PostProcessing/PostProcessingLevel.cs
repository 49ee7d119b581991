namespace TiledEnsemble.PostProcessing;

/// <summary>Where in the pipeline a post-processor works.</summary>
public enum PostProcessingLevel
{
    /// <summary>On each tile position's predictions, before joining; calibrated on that position's validation
    /// tiles.</summary>
    Position,

    /// <summary>On the joined, seam-smoothed predictions; calibrated on the joined validation predictions.</summary>
    Image,
}
