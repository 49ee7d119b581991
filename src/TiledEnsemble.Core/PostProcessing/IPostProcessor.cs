using System.Collections.Generic;
using System.Threading;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// Normalization and thresholding as a pipeline stage: it learns from validation predictions (at the position level,
/// the image level or both) and returns what it learned as an <see cref="IFittedPostProcessor"/>, which a run saves
/// (<see cref="IFittedPostProcessor.State"/>) and restores (<see cref="Restore"/>). The default is
/// <see cref="PostProcessor"/> (anomalib's min-max normalization and F1-adaptive thresholds); one of one's own might
/// keep a threshold per position.
/// </summary>
/// <remarks>
/// The pipeline, per batch: each position's predictions go through that position's fitted processor (when
/// <see cref="ProcessesPositions"/>), are joined (masks and labels OR-ed) and seam-smoothed, then go through the
/// image-level fitted processor (when <see cref="ProcessesImages"/>), which must give masks and labels; without one,
/// the joined position-level masks and labels are final. Implementations are immutable and thread-safe.
/// </remarks>
public interface IPostProcessor : IPipelineStage
{
    /// <summary>Whether each position's predictions are processed before joining.</summary>
    bool ProcessesPositions { get; }

    /// <summary>Whether the joined predictions are processed; when false, <see cref="ProcessesPositions"/> must
    /// threshold.</summary>
    bool ProcessesImages { get; }

    /// <summary>Learns from validation predictions of one level, streamed batch by batch.</summary>
    /// <param name="level">Which level the batches are of.</param>
    /// <param name="validation">The batches; each is valid until the next is asked for.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <exception cref="System.InvalidOperationException">There was nothing to learn from (no labelled
    /// sample).</exception>
    IFittedPostProcessor Calibrate(
        PostProcessingLevel level,
        IEnumerable<CalibrationBatch> validation,
        CancellationToken cancellationToken = default
    );

    /// <summary>Restores what <see cref="Calibrate"/> learned from its
    /// <see cref="IFittedPostProcessor.State"/>.</summary>
    /// <exception cref="System.FormatException">The state is not one this post-processor wrote.</exception>
    IFittedPostProcessor Restore(PostProcessingLevel level, string state);
}
