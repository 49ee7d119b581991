using System;
using System.Linq;
using TiledEnsemble.Deployment;
using TiledEnsemble.Prediction;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Export;

/// <summary>
/// What "equal" means between the TorchSharp predictor and ONNX Runtime on an export: maps within 1e-4 of the map's
/// range, scores within 1e-4, the same label unless the score is within 1e-4 of the image threshold (the F1-adaptive
/// threshold is one image's score, which therefore sits on it up to rounding), masks that differ only where the map is
/// within 1e-4 (of the range) of the pixel threshold, and the same boxes where the masks are the same.
/// </summary>
internal static class ExportComparison
{
    public const double Tolerance = 1e-4;

    /// <summary>Asserts equality; returns the largest map and score differences.</summary>
    public static (double Map, double Score) AssertEqual(
        ImagePrediction expected,
        DeployedPrediction actual,
        double? pixelThreshold,
        double? imageThreshold,
        string what
    )
    {
        using var scope = NewDisposeScope();
        var map = expected.AnomalyMap.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var mask = expected.Mask.to_type(ScalarType.Bool).contiguous().data<bool>().ToArray();
        Assert.Equal(map.Length, actual.AnomalyMap.Length);
        double range = Math.Max(map.Max() - map.Min(), 1e-6);
        double mapDifference = map.Zip(actual.AnomalyMap, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(mapDifference <= Tolerance * range, $"{what}: maps differ by {mapDifference} (range {range})");
        double scoreDifference = Math.Abs(expected.Score - actual.Score);
        Assert.True(scoreDifference <= Tolerance, $"{what}: scores {expected.Score} and {actual.Score}");
        Assert.True(
            Math.Abs(expected.RawScore - actual.RawScore) <= Tolerance * Math.Max(1, Math.Abs(expected.RawScore)),
            $"{what}: raw scores {expected.RawScore} and {actual.RawScore}"
        );
        Assert.True(
            expected.Label == actual.Label
                || imageThreshold is { } threshold && Math.Abs(expected.Score - threshold) <= Tolerance,
            $"{what}: labels {expected.Label} and {actual.Label} (score {expected.Score}, threshold {imageThreshold})"
        );
        int differing = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != actual.Mask[i])
            {
                differing++;
                Assert.True(
                    pixelThreshold is { } t && Math.Abs(map[i] - t) <= Tolerance * range,
                    $"{what}: mask pixel {i} differs with map {map[i]}, threshold {pixelThreshold}"
                );
            }
        }

        if (differing == 0)
        {
            Assert.Equal(
                expected.Boxes.Select(b => (b.X1, b.Y1, b.X2, b.Y2)),
                actual.Boxes.Select(b => (b.X1, b.Y1, b.X2, b.Y2))
            );
        }

        return (mapDifference / range, scoreDifference);
    }
}
