using TiledEnsemble.Prediction;
using static TorchSharp.torch;

namespace TiledEnsemble.Visualization;

/// <summary>The picture of a prediction, for predictions of any source (a run, or an export run by ONNX
/// Runtime).</summary>
public static class PredictionPicture
{
    /// <summary>
    /// Writes the image, the heat map over it and the segmentation, titled, with the score, label and both thresholds
    /// under them and the heat map's colour scale.
    /// </summary>
    /// <param name="path">PNG file to write (beside it first, then renamed over it).</param>
    /// <param name="image">[3, H, W] image in [0, 1] at the size it was predicted.</param>
    /// <param name="prediction">Its prediction.</param>
    /// <param name="name">The image's name for the caption.</param>
    /// <param name="imageThreshold">The image threshold on the scale of the score (null: per tile).</param>
    /// <param name="pixelThreshold">The pixel threshold on the scale of the map (null: per tile).</param>
    /// <param name="normalized">Whether the map is normalized (drawn from 0 to 1) rather than raw (its own
    /// range).</param>
    public static void Save(
        string path,
        Tensor image,
        ImagePrediction prediction,
        string name,
        double? imageThreshold,
        double? pixelThreshold,
        bool normalized
    )
    {
        System.ArgumentNullException.ThrowIfNull(prediction);
        TensorGuard.Rank(image, 3, nameof(image), "[3, H, W]");
        Visualizer.SavePrediction(
            path,
            image,
            prediction,
            name,
            new ScoreThresholds(imageThreshold, pixelThreshold, normalized)
        );
    }
}
