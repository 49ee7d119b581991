using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Joining;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Samples.CustomPipeline;
using TiledEnsemble.Testing;
using TiledEnsemble.Tiling;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Composition;

/// <summary>The custom-pipeline sample's stages against pixel-by-pixel references written out in the tests.</summary>
public class SampleStagesTests
{
    [Fact]
    public void TheMaxJoinerKeepsTheLargestCoveringValueTheLargestScoreAndOrsMasks()
    {
        using var scope = NewDisposeScope();

        // 3x3 tiles of 8 with stride 6 over 20x20: overlaps of 2 pixels, and the last tiles reach 2 pixels past the
        // image.
        var grid = TileGrid.Create(20, 8, 6);
        var tiles = grid
            .Positions.Select((p, i) => (p, TestTensors.Rand(new long[] { 2, 1, 8, 8 }, (ulong)(i + 10))))
            .ToList();
        var predictions = tiles
            .Select(
                (t, i) =>
                    new TilePrediction(t.p, t.Item2, tensor(new float[] { i, -i }))
                    {
                        PredictedMasks = t.Item2.gt(TestTensors.Scalar(0.9)),
                        PredictedLabels = tensor(new[] { i == 4, false }),
                    }
            )
            .ToList();
        using var joined = new MaxJoiner().Join(predictions, grid);

        var maps = joined.AnomalyMaps.data<float>().ToArray();
        var masks = joined.PredictedMasks!.data<bool>().ToArray();
        for (int b = 0; b < 2; b++)
        {
            for (int y = 0; y < 20; y++)
            {
                for (int x = 0; x < 20; x++)
                {
                    float largest = float.NegativeInfinity;
                    foreach (var (p, tile) in tiles)
                    {
                        if (y >= p.Top && y < p.Top + 8 && x >= p.Left && x < p.Left + 8)
                        {
                            largest = Math.Max(largest, tile[b, 0, y - p.Top, x - p.Left].item<float>());
                        }
                    }

                    Assert.Equal(largest, maps[(b * 400) + (y * 20) + x]);
                    Assert.Equal(largest > 0.9f, masks[(b * 400) + (y * 20) + x]);
                }
            }
        }

        Assert.Equal(new float[] { 8, 0 }, joined.Scores.data<float>().ToArray());
        Assert.Equal(new[] { true, false }, joined.PredictedLabels!.data<bool>().ToArray());
    }

    [Fact]
    public void TheBoxSmootherAveragesTheBoxAroundBandPixelsAndLeavesOthersBitIdentical()
    {
        using var scope = NewDisposeScope();
        var grid = TileGrid.Create(24, 12, 12);
        var maps = TestTensors.Rand(new long[] { 1, 1, 24, 24 }, 3);
        var smoothed = new BoxSeamSmoother(size: 3, halfWidth: 2).Smooth(maps, grid);
        var input = maps.data<float>().ToArray();
        var output = smoothed.data<float>().ToArray();
        float At(int y, int x) => input[(Math.Clamp(y, 0, 23) * 24) + Math.Clamp(x, 0, 23)];
        for (int y = 0; y < 24; y++)
        {
            for (int x = 0; x < 24; x++)
            {
                // The only internal border is 12 on both axes: bands are rows and columns 10..13.
                bool band = (y >= 10 && y < 14) || (x >= 10 && x < 14);
                float expected = input[(y * 24) + x];
                if (band)
                {
                    float sum = 0;
                    for (int dy = -1; dy <= 1; dy++)
                    {
                        for (int dx = -1; dx <= 1; dx++)
                        {
                            sum += At(y + dy, x + dx);
                        }
                    }

                    expected = sum / 9;
                    Assert.Equal(expected, output[(y * 24) + x], 5);
                }
                else
                {
                    Assert.Equal(expected, output[(y * 24) + x]);
                }
            }
        }
    }

    [Fact]
    public void PositionThresholdsAreTheLargestNormalValuesTimesTheMarginAndRoundTrip()
    {
        using var scope = NewDisposeScope();
        var maps = TestTensors.Rand(new long[] { 4, 1, 4, 4 }, 8);
        var scores = tensor(new float[] { 0.2f, 0.6f, 0.4f, 0.9f });
        var labels = tensor(new[] { false, false, true, true });
        var post = new PositionThresholds(margin: 2);
        var fitted = post.Calibrate(
            PostProcessingLevel.Position,
            new[]
            {
                new CalibrationBatch(maps[..2], scores[..2], labels[..2], null),
                new CalibrationBatch(maps[2..], scores[2..], labels[2..], null),
            }
        );
        double pixel = maps[..2].max().item<float>() * 2.0;
        using var processed = fitted.Process(maps, scores, null, null);
        Assert.Equal(
            new[] { 0.2f / 1.2f, 0.6f / 1.2f, 0.4f / 1.2f, 0.9f / 1.2f },
            processed.Scores.data<float>().ToArray(),
            new FloatTolerance()
        );
        Assert.Equal(
            maps.data<float>().ToArray().Select(v => v / pixel >= 1).ToArray(),
            processed.Masks!.flatten().data<bool>().ToArray()
        );
        Assert.All(processed.Labels!.data<bool>().ToArray(), label => Assert.False(label));
        var restored = post.Restore(PostProcessingLevel.Position, fitted.State);
        using var again = restored.Process(maps, scores, null, null);
        Assert.True(TestTensors.Same(processed.Maps, again.Maps));
        Assert.Throws<FormatException>(() => post.Restore(PostProcessingLevel.Position, "{}"));
        Assert.Throws<InvalidOperationException>(() =>
            post.Calibrate(
                PostProcessingLevel.Position,
                new[] { new CalibrationBatch(maps, scores, tensor(new[] { true, true, true, true }), null) }
            )
        );
    }

    private sealed class FloatTolerance : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) < 1e-5;

        public int GetHashCode(float obj) => 0;
    }
}
