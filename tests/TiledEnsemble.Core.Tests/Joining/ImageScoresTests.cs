using System;
using System.Linq;
using TiledEnsemble.Joining;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Joining;

public class ImageScoresTests
{
    [Fact]
    public void EveryAggregationEqualsItsValueByHand()
    {
        using var scope = NewDisposeScope();

        // Three positions, two images.
        var positions = tensor(new float[] { 1, 2, 3, 8, 5, 2 }, new long[] { 3, 2 });

        // Image 0's map holds 0..8 (k = 3 largest: 8, 7, 6); image 1's is constant 0.5 but one pixel at 4.
        var maps = tensor(
            new float[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 4 },
            new long[] { 2, 1, 3, 3 }
        );
        float[] Scores(ImageScoreAggregation a, int k = 3) =>
            ImageScores.Aggregate(a, positions, maps, k).data<float>().ToArray();

        Assert.Equal(new[] { 3f, 4f }, Scores(ImageScoreAggregation.MeanOfPositions));
        Assert.Equal(new[] { 5f, 8f }, Scores(ImageScoreAggregation.MaxOfPositions));
        Assert.Equal(new[] { 8f, 4f }, Scores(ImageScoreAggregation.MaxOfMap));
        Assert.Equal(new[] { 7f, 5f / 3f }, Scores(ImageScoreAggregation.TopKMeanOfMap));

        // k beyond the map: the mean of the whole map; k = 1 is the maximum.
        Assert.Equal(new[] { 4f, 8f / 9f }, Scores(ImageScoreAggregation.TopKMeanOfMap, 1000));
        Assert.Equal(Scores(ImageScoreAggregation.MaxOfMap), Scores(ImageScoreAggregation.TopKMeanOfMap, 1));

        var every = ImageScores.All(positions, maps, 3);
        Assert.Equal(new long[] { ImageScores.Aggregations.Length, 2 }, every.shape);
        Assert.Equal(Scores(ImageScoreAggregation.MaxOfMap), every[2].data<float>().ToArray());
    }

    [Fact]
    public void BadShapesAndKAreNamed()
    {
        using var scope = NewDisposeScope();
        var maps = zeros(2, 1, 4, 4);
        Assert.Contains(
            "disagree on the number of images",
            Assert
                .Throws<ArgumentException>(() =>
                    ImageScores.Aggregate(ImageScoreAggregation.MaxOfMap, zeros(3, 5), maps, 3)
                )
                .Message
        );
        Assert.Contains(
            "topK must be a positive number of pixels; got 0",
            Assert
                .Throws<ArgumentException>(() =>
                    ImageScores.Aggregate(ImageScoreAggregation.TopKMeanOfMap, zeros(3, 2), maps, 0)
                )
                .Message
        );
        Assert.Contains(
            "[P, B]",
            Assert
                .Throws<ArgumentException>(() =>
                    ImageScores.Aggregate(ImageScoreAggregation.MeanOfPositions, zeros(2), maps, 3)
                )
                .Message
        );
        Assert.Equal("top_k_mean_of_map", ImageScores.Name(ImageScoreAggregation.TopKMeanOfMap));
    }
}
