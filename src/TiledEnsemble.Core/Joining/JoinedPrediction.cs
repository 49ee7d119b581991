using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>The image-level prediction joined from every tile position. Disposing it releases its tensors.</summary>
public sealed class JoinedPrediction : IDisposable
{
    /// <summary>Creates a joined prediction; it owns the tensors.</summary>
    public JoinedPrediction(
        Tensor anomalyMaps,
        Tensor scores,
        Tensor? predictedMasks,
        Tensor? predictedLabels,
        IReadOnlyList<Boxes>? boxes
    )
    {
        AnomalyMaps = anomalyMaps;
        Scores = scores;
        PredictedMasks = predictedMasks;
        PredictedLabels = predictedLabels;
        Boxes = boxes;
    }

    /// <summary>[B, 1, H, W]: the tile maps untiled, overlaps averaged.</summary>
    public Tensor AnomalyMaps { get; }

    /// <summary>[B]: mean of the positions' scores.</summary>
    public Tensor Scores { get; }

    /// <summary>[B, 1, H, W] boolean: a pixel is set when any tile covering it set it; null when the tiles had no
    /// masks.</summary>
    public Tensor? PredictedMasks { get; }

    /// <summary>[B] boolean: set when any position set it; null when the tiles had no labels.</summary>
    public Tensor? PredictedLabels { get; }

    /// <summary>One box set per image in image coordinates, clipped to the image; null when the tiles had no
    /// boxes.</summary>
    public IReadOnlyList<Boxes>? Boxes { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        AnomalyMaps.Dispose();
        Scores.Dispose();
        PredictedMasks?.Dispose();
        PredictedLabels?.Dispose();
        if (Boxes is not null)
        {
            foreach (var set in Boxes)
            {
                set.Dispose();
            }
        }
    }
}
