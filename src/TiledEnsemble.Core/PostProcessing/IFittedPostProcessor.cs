using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// What an <see cref="IPostProcessor"/> learned for one level (one position, or the joined images): applies it to
/// predictions. Immutable and thread-safe; works on the input's device.
/// </summary>
public interface IFittedPostProcessor
{
    /// <summary>What was learned, as JSON (an object, array, string or number) that a run saves and
    /// <see cref="IPostProcessor.Restore"/> reads.</summary>
    string State { get; }

    /// <summary>
    /// Whether the output maps and scores are normalized, so that pictures draw maps on a fixed scale from 0 to 1
    /// instead of each map's own range.
    /// </summary>
    bool Normalizes { get; }

    /// <summary>The image threshold on the scale of the output scores, or null where this level does not
    /// threshold.</summary>
    double? ImageThreshold { get; }

    /// <summary>The pixel threshold on the scale of the output maps, or null where this level does not
    /// threshold.</summary>
    double? PixelThreshold { get; }

    /// <summary>Processes a batch.</summary>
    /// <param name="maps">[B, 1, H, W] maps (not changed or disposed).</param>
    /// <param name="scores">[B] scores (not changed or disposed).</param>
    /// <param name="masks">[B, 1, H, W] boolean masks of an earlier level, or null.</param>
    /// <param name="labels">[B] boolean labels of an earlier level, or null.</param>
    /// <returns>New maps and scores; masks and labels where this level thresholds, else the ones given.</returns>
    ProcessedPrediction Process(Tensor maps, Tensor scores, Tensor? masks, Tensor? labels);
}
