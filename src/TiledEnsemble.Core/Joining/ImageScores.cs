using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>Image scores from position scores and joined maps (see <see cref="ImageScoreAggregation"/>).</summary>
public static class ImageScores
{
    /// <summary>Every aggregation, in declaration order (the rows of <see cref="All"/>).</summary>
    public static readonly ImageScoreAggregation[] Aggregations = Enum.GetValues<ImageScoreAggregation>();

    /// <summary>The name of an aggregation in configuration files and metric keys: snake case
    /// (<c>top_k_mean_of_map</c>).</summary>
    public static string Name(ImageScoreAggregation aggregation) =>
        aggregation switch
        {
            ImageScoreAggregation.MeanOfPositions => "mean_of_positions",
            ImageScoreAggregation.MaxOfPositions => "max_of_positions",
            ImageScoreAggregation.MaxOfMap => "max_of_map",
            ImageScoreAggregation.TopKMeanOfMap => "top_k_mean_of_map",
            _ => throw new ArgumentOutOfRangeException(
                nameof(aggregation),
                aggregation,
                "Unknown image-score aggregation."
            ),
        };

    /// <summary>The image scores [B] by <paramref name="aggregation"/>.</summary>
    /// <param name="aggregation">How to aggregate.</param>
    /// <param name="positionScores">[P, B] every position's score of every image.</param>
    /// <param name="maps">[B, 1, H, W] joined anomaly maps.</param>
    /// <param name="topK">Pixels averaged by <see cref="ImageScoreAggregation.TopKMeanOfMap"/>; at most H·W are
    /// used.</param>
    /// <exception cref="ArgumentException">Shapes disagree, or <paramref name="topK"/> is not positive.</exception>
    public static Tensor Aggregate(ImageScoreAggregation aggregation, Tensor positionScores, Tensor maps, int topK)
    {
        TensorGuard.Rank(positionScores, 2, nameof(positionScores), "[P, B]");
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, 1, H, W]");
        if (positionScores.shape[1] != maps.shape[0])
        {
            throw new ArgumentException(
                $"positionScores {TensorGuard.Describe(positionScores)} and maps {TensorGuard.Describe(maps)} "
                    + $"disagree on the number of images.",
                nameof(positionScores)
            );
        }

        if (topK <= 0)
        {
            throw new ArgumentException($"topK must be a positive number of pixels; got {topK}.", nameof(topK));
        }

        using var scope = NewDisposeScope();
        var flat = maps.to_type(ScalarType.Float32).flatten(1);
        var result = aggregation switch
        {
            ImageScoreAggregation.MeanOfPositions => positionScores.to_type(ScalarType.Float32).mean(new long[] { 0 }),
            ImageScoreAggregation.MaxOfPositions => positionScores.to_type(ScalarType.Float32).amax(new long[] { 0 }),
            ImageScoreAggregation.MaxOfMap => flat.amax(new long[] { 1 }),
            ImageScoreAggregation.TopKMeanOfMap => flat.topk((int)Math.Min(topK, flat.shape[1]), dim: 1)
                .values.mean(new long[] { 1 }),
            _ => throw new ArgumentOutOfRangeException(
                nameof(aggregation),
                aggregation,
                "Unknown image-score aggregation."
            ),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>[A, B]: the scores of every aggregation (rows in the order of <see cref="Aggregations"/>).</summary>
    public static Tensor All(Tensor positionScores, Tensor maps, int topK)
    {
        using var scope = NewDisposeScope();
        return stack(Array.ConvertAll(Aggregations, a => Aggregate(a, positionScores, maps, topK)))
            .MoveToOuterDisposeScope();
    }
}
