using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>The prediction for one image. Disposing it releases its tensors.</summary>
public sealed class ImagePrediction : IDisposable
{
    /// <summary>Creates a prediction; it owns the tensors.</summary>
    /// <param name="anomalyMap">[1, H, W] anomaly map.</param>
    /// <param name="mask">[1, H, W] boolean mask.</param>
    /// <param name="score">Image score.</param>
    /// <param name="rawScore">Image score before image-level normalization.</param>
    /// <param name="label">True is anomalous.</param>
    /// <param name="boxes">Connected regions of the mask.</param>
    public ImagePrediction(
        Tensor anomalyMap,
        Tensor mask,
        double score,
        double rawScore,
        bool label,
        IReadOnlyList<AnomalyBox> boxes
    )
    {
        AnomalyMap = anomalyMap;
        Mask = mask;
        Score = score;
        RawScore = rawScore;
        Label = label;
        Boxes = boxes;
    }

    /// <summary>[1, H, W] anomaly map at the image's original resolution (normalized unless normalization is
    /// off).</summary>
    public Tensor AnomalyMap { get; }

    /// <summary>[1, H, W] boolean predicted mask at the original resolution.</summary>
    public Tensor Mask { get; }

    /// <summary>Image score (normalized unless normalization is off).</summary>
    public double Score { get; }

    /// <summary>Image score before image-stage normalization.</summary>
    public double RawScore { get; }

    /// <summary>Predicted label: true is anomalous.</summary>
    public bool Label { get; }

    /// <summary>Connected regions of the mask, in original-resolution pixels.</summary>
    public IReadOnlyList<AnomalyBox> Boxes { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        AnomalyMap.Dispose();
        Mask.Dispose();
    }
}
