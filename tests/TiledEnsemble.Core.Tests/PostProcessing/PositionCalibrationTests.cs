using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.PostProcessing;

/// <summary>
/// Per-position and per-pixel calibration against means and deviations computed here in double precision from the
/// good tiles alone: the anomalous tile is left out, large offsets do not cancel, few tiles shrink a pixel's deviation
/// toward the position's, and what a run saves restores the same outputs and refuses damaged values.
/// </summary>
public sealed class PositionCalibrationTests
{
    private const int Size = 4;

    /// <summary>Three batches of 4×4 tile maps around 1000 (so that naive sums of squares would cancel); the second
    /// tile of the first batch is anomalous and must not count.</summary>
    private static List<(float[] Values, bool[] Labels)> Batches()
    {
        var random = new Random(7);
        var batches = new List<(float[], bool[])>();
        foreach (var labels in new[] { new[] { false, true }, new[] { false, false, false }, new[] { false } })
        {
            var values = new float[labels.Length * Size * Size];
            for (int i = 0; i < values.Length; i++)
            {
                int pixel = i % (Size * Size);
                bool anomalous = labels[i / (Size * Size)];
                values[i] = (float)(1000 + (pixel * 0.25) + random.NextDouble() + (anomalous ? 50 : 0));
            }

            batches.Add((values, labels));
        }

        return batches;
    }

    private static IEnumerable<CalibrationBatch> AsCalibration(List<(float[] Values, bool[] Labels)> batches)
    {
        foreach (var (values, labels) in batches)
        {
            using var scope = NewDisposeScope();
            long count = labels.Length;
            yield return new CalibrationBatch(
                tensor(values, new long[] { count, 1, Size, Size }),
                zeros(count),
                tensor(labels),
                null
            );
        }
    }

    /// <summary>The good tiles' values, tile by tile.</summary>
    private static List<double[]> GoodTiles(List<(float[] Values, bool[] Labels)> batches) =>
        batches
            .SelectMany(b =>
                b.Labels.Select((anomalous, t) => (anomalous, t))
                    .Where(x => !x.anomalous)
                    .Select(x => b.Values.Skip(x.t * Size * Size).Take(Size * Size).Select(v => (double)v).ToArray())
            )
            .ToList();

    private static PostProcessor Calibrating(PositionCalibration calibration) =>
        new(Stage.Image, NormalizationMethod.MinMax, Stage.Image, calibration: calibration);

    [Fact]
    public void PerPositionStandardizesMapsAndScoresByTheGoodTilesMeanAndDeviation()
    {
        var batches = Batches();
        var good = GoodTiles(batches);
        Assert.Equal(5, good.Count);
        var all = good.SelectMany(t => t).ToArray();
        double mean = all.Average();
        double deviation = Math.Sqrt(all.Select(v => (v - mean) * (v - mean)).Average());

        var fitted = Assert.IsType<PositionStandardizer>(
            Calibrating(PositionCalibration.PerPosition).Calibrate(PostProcessingLevel.Position, AsCalibration(batches))
        );
        Assert.Equal(5, fitted.GoodTiles);
        Assert.Equal(mean, fitted.Mean, 1e-9);
        Assert.Equal(deviation, fitted.Deviation, 1e-9);
        Assert.False(fitted.Normalizes);
        Assert.Null(fitted.ImageThreshold);

        using var scope = NewDisposeScope();
        using var ten = 10.0.ToScalar();
        using var one = 1.0.ToScalar();
        using var offset = 995.0.ToScalar();
        var maps = TestTensors.Rand(new long[] { 2, 1, Size, Size }, 3).mul(ten).add(offset, one);
        var scores = tensor(new[] { 1001f, 1010f });
        var processed = fitted.Process(maps, scores, null, null);
        var raw = maps.data<float>().ToArray();
        var got = processed.Maps.data<float>().ToArray();
        for (int i = 0; i < raw.Length; i++)
        {
            Assert.Equal((raw[i] - mean) / deviation, got[i], 1e-3);
        }

        Assert.Equal((1010 - mean) / deviation, processed.Scores.data<float>()[1], 1e-3);
        Assert.Null(processed.Masks);
    }

    [Fact]
    public void PerPixelShrinksEachPixelsDeviationTowardThePositionsByFourTiles()
    {
        var batches = Batches();
        var good = GoodTiles(batches);
        int n = good.Count;
        var all = good.SelectMany(t => t).ToArray();
        double positionMean = all.Average();
        double positionVariance = all.Select(v => (v - positionMean) * (v - positionMean)).Average();

        var fitted = (PositionStandardizer)
            Calibrating(PositionCalibration.PerPixel).Calibrate(PostProcessingLevel.Position, AsCalibration(batches));
        using var scope = NewDisposeScope();
        var map = tensor(Enumerable.Repeat(1001f, Size * Size).ToArray(), new long[] { 1, 1, Size, Size });
        var got = fitted.Process(map, tensor(new[] { 1001f }), null, null).Maps.data<float>().ToArray();
        for (int pixel = 0; pixel < Size * Size; pixel++)
        {
            var values = good.Select(t => t[pixel]).ToArray();
            double mean = values.Average();
            double variance = values.Select(v => (v - mean) * (v - mean)).Average();
            double shrunk = ((n * variance) + (4 * positionVariance)) / (n + 4);
            Assert.Equal((1001 - mean) / Math.Sqrt(shrunk), got[pixel], 2e-3);
        }
    }

    [Theory]
    [InlineData(PositionCalibration.PerPosition)]
    [InlineData(PositionCalibration.PerPixel)]
    public void TheSavedStateRestoresTheSameOutputs(PositionCalibration calibration)
    {
        var post = Calibrating(calibration);
        var fitted = post.Calibrate(PostProcessingLevel.Position, AsCalibration(Batches()));
        var restored = post.Restore(PostProcessingLevel.Position, fitted.State);
        using var scope = NewDisposeScope();
        using var offset = 1000.0.ToScalar();
        using var one = 1.0.ToScalar();
        var maps = TestTensors.Rand(new long[] { 3, 1, Size, Size }, 11).add(offset, one);
        var scores = tensor(new[] { 999f, 1000f, 1003f });
        var a = fitted.Process(maps, scores, null, null);
        var b = restored.Process(maps, scores, null, null);
        Assert.Equal(a.Maps.data<float>().ToArray(), b.Maps.data<float>().ToArray());
        Assert.Equal(a.Scores.data<float>().ToArray(), b.Scores.data<float>().ToArray());
    }

    [Theory]
    [InlineData("deviation", "-1")]
    [InlineData("deviation", "0")]
    [InlineData("mean", "\"NaN\"")]
    [InlineData("height", "5")]
    [InlineData("calibration", "\"PerPosition\"")]
    [InlineData("pixel_deviations", "\"AAAAAA==\"")]
    [InlineData("pixel_means", "\"not base64!\"")]
    [InlineData("good_tiles", "0")]
    public void DamagedStatesAreRefusedNamingTheValue(string key, string value)
    {
        var post = Calibrating(PositionCalibration.PerPixel);
        var state = JsonNode.Parse(post.Calibrate(PostProcessingLevel.Position, AsCalibration(Batches())).State)!;
        state[key] = JsonNode.Parse(value);
        var error = Assert.Throws<FormatException>(() =>
            post.Restore(PostProcessingLevel.Position, state.ToJsonString())
        );
        Assert.Contains("calibrat", error.Message + (error.InnerException?.Message ?? ""), StringComparison.Ordinal);
    }

    [Fact]
    public void ANegativePixelDeviationIsRefused()
    {
        var post = Calibrating(PositionCalibration.PerPixel);
        var state = JsonNode.Parse(post.Calibrate(PostProcessingLevel.Position, AsCalibration(Batches())).State)!;
        var deviations = Enumerable.Repeat(1f, Size * Size).ToArray();
        deviations[5] = -1f;
        state["pixel_deviations"] = Convert.ToBase64String(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(deviations.AsSpan())
        );
        var error = Assert.Throws<FormatException>(() =>
            post.Restore(PostProcessingLevel.Position, state.ToJsonString())
        );
        Assert.Contains("pixel_deviations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APositionWithoutGoodTilesIsRefusedPointingToHeldOutGoodImages()
    {
        var batches = Batches().Select(b => (b.Values, b.Labels.Select(_ => true).ToArray())).ToList();
        var error = Assert.Throws<InvalidOperationException>(() =>
            Calibrating(PositionCalibration.PerPosition).Calibrate(PostProcessingLevel.Position, AsCalibration(batches))
        );
        Assert.Contains("from_train", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrationNeedsImageThresholdsAndIsRecordedOnlyWhenSet()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new PostProcessor(
                Stage.None,
                NormalizationMethod.MinMax,
                Stage.Tile,
                calibration: PositionCalibration.PerPixel
            )
        );
        Assert.Equal("calibration", error.ParamName);
        Assert.Throws<ArgumentException>(() =>
            new PostProcessor(
                Stage.Tile,
                NormalizationMethod.MinMax,
                Stage.Image,
                calibration: PositionCalibration.PerPosition
            )
        );

        Assert.False(new PostProcessor().ProcessesPositions);
        Assert.DoesNotContain("calibration", new PostProcessor().Identity.Settings.Keys);
        var calibrated = Calibrating(PositionCalibration.PerPixel);
        Assert.True(calibrated.ProcessesPositions);
        Assert.Equal("PerPixel", calibrated.Identity.Settings["calibration"]);
    }

    [Fact]
    public void MapsOfAnotherTileSizeAreRefused()
    {
        var fitted = Calibrating(PositionCalibration.PerPosition)
            .Calibrate(PostProcessingLevel.Position, AsCalibration(Batches()));
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() =>
            fitted.Process(zeros(1, 1, Size, Size + 1), zeros(1), null, null)
        );
        Assert.Contains("4x4", error.Message, StringComparison.Ordinal);
    }
}
