using System;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>Batch output of the pipeline at the ensemble's image size (internal representation, also used by
/// evaluation).</summary>
internal sealed class EnsembleOutput : IDisposable
{
    public EnsembleOutput(Tensor maps, Tensor scores, Tensor rawScores, Tensor masks, Tensor labels)
    {
        Maps = maps;
        Scores = scores;
        RawScores = rawScores;
        Masks = masks;
        Labels = labels;
    }

    /// <summary>[B, 1, H, W] final maps (normalized unless normalization is off).</summary>
    public Tensor Maps { get; }

    /// <summary>[B] final scores.</summary>
    public Tensor Scores { get; }

    /// <summary>[B] scores before image-stage normalization.</summary>
    public Tensor RawScores { get; }

    /// <summary>[B, 1, H, W] boolean predicted masks.</summary>
    public Tensor Masks { get; }

    /// <summary>[B] boolean predicted labels.</summary>
    public Tensor Labels { get; }

    /// <summary>[A, B] scores of every image-score aggregation before image-stage normalization, when asked
    /// for.</summary>
    public Tensor? ScoresByAggregation { get; init; }

    public void Dispose()
    {
        Maps.Dispose();
        Scores.Dispose();
        RawScores.Dispose();
        Masks.Dispose();
        Labels.Dispose();
        ScoresByAggregation?.Dispose();
    }
}
