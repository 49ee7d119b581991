using System.Collections.Generic;

namespace TiledEnsemble.Deployment;

/// <summary>The prediction for one image, at the image's own resolution: what TiledEnsemble's <c>ImagePrediction</c>
/// holds.</summary>
public sealed class DeployedPrediction
{
    internal DeployedPrediction(
        float[] anomalyMap,
        bool[] mask,
        int height,
        int width,
        double score,
        double rawScore,
        bool label,
        IReadOnlyList<DeployedBox> boxes
    )
    {
        AnomalyMap = anomalyMap;
        Mask = mask;
        Height = height;
        Width = width;
        Score = score;
        RawScore = rawScore;
        Label = label;
        Boxes = boxes;
    }

    /// <summary>The anomaly map, <see cref="Height"/> × <see cref="Width"/> values row by row (normalized unless
    /// normalization is off).</summary>
    public float[] AnomalyMap { get; }

    /// <summary>The predicted mask, row by row.</summary>
    public bool[] Mask { get; }

    /// <summary>Rows of the map and mask: the image's height.</summary>
    public int Height { get; }

    /// <summary>Columns of the map and mask: the image's width.</summary>
    public int Width { get; }

    /// <summary>Image score (normalized unless normalization is off).</summary>
    public double Score { get; }

    /// <summary>Image score before image-level normalization.</summary>
    public double RawScore { get; }

    /// <summary>Predicted label: true is anomalous.</summary>
    public bool Label { get; }

    /// <summary>Connected regions of the mask.</summary>
    public IReadOnlyList<DeployedBox> Boxes { get; }
}
