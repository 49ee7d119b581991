using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Patchcore;

public class PatchcoreTests
{
    private static readonly PatchcoreOptions Small = new()
    {
        Backbone = "resnet18",
        CoresetSamplingRatio = 0.25,
        DistanceChunkSize = 37,
    };

    [Fact]
    public void CoresetIsReproducibleAndCoversBetterWithMorePoints()
    {
        using var scope = NewDisposeScope();
        var points = TestTensors.Randn(new long[] { 400, 16 }, 3);
        Assert.Equal(KCenterGreedy.Select(points, 40, 7), KCenterGreedy.Select(points, 40, 7));
        Assert.NotEqual(KCenterGreedy.Select(points, 40, 7), KCenterGreedy.Select(points, 40, 8));

        double Radius(long[] chosen) => cdist(points, points[tensor(chosen)]).min(1).values.max().item<float>();
        var radii = new[] { 0.05, 0.1, 0.3, 1.0 }
            .Select(r => Radius(KCenterGreedy.Select(points, (int)(400 * r), 7, projectionDimension: 16)))
            .ToArray();
        for (int i = 1; i < radii.Length; i++)
        {
            Assert.True(radii[i] < radii[i - 1], $"radius {radii[i]} at ratio step {i} is not below {radii[i - 1]}");
        }

        Assert.True(radii[^1] < 1e-2, $"selecting every point leaves radius {radii[^1]}");
        Assert.Equal(400, KCenterGreedy.Select(points, 400, 1).Distinct().Count());
    }

    [Fact]
    public void KCenterGreedyPicksWhatAPlainFarthestPointLoopPicks()
    {
        using var scope = NewDisposeScope();
        var points = TestTensors.Randn(new long[] { 300, 12 }, 9);
        var rows = points.data<float>().ToArray();

        // The definition, in double precision: start where the seeded generator starts, then add the point whose
        // distance to the nearest chosen one is largest.
        int n = 300,
            d = 12,
            count = 30;
        long first = new Random(4).NextInt64(n);
        var chosen = new List<long> { first };
        var nearest = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        for (int step = 0; step < count; step++)
        {
            long c = chosen[^1];
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++)
                {
                    double diff = rows[(i * d) + j] - rows[(c * d) + j];
                    sum += diff * diff;
                }

                nearest[i] = Math.Min(nearest[i], Math.Sqrt(sum));
            }

            if (step < count - 1)
            {
                chosen.Add(Array.IndexOf(nearest, nearest.Max()));
            }
        }

        // No projection (its dimension equals the features'): the same points in the same order.
        Assert.Equal(chosen.ToArray(), KCenterGreedy.Select(points, count, 4, projectionDimension: d));
    }

    [Theory]
    [InlineData(5)] // 16 queries and 16 bank rows in blocks of 5: the running minimum
    [InlineData(4096)] // one block: the direct path
    public void NearestNeighbourDistancesEqualABruteForceSearchWithAnyChunking(int chunk)
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 5);
        using var model = new PatchcoreModel(backbone, Small with { BlurSigma = 0.1, DistanceChunkSize = chunk });
        model.Fit(TextureSet.Batches(TextureSet.Normals(4, 32), 2));
        var test = TextureSet.Defective(1, 32);
        var patches = model.Embed(test).permute(0, 2, 3, 1).reshape(-1, model.MemoryBank.shape[1]);
        var brute = cdist(patches, model.MemoryBank).min(1).values.reshape(1, 1, 4, 4);
        using var prediction = model.Predict(test);

        // With a negligible blur the map is the patch distance map upsampled by nearest neighbour (8x8 blocks).
        var sampled = prediction.AnomalyMaps[.., .., TensorIndex.Slice(0, 32, 8), TensorIndex.Slice(0, 32, 8)];
        Assert.True((sampled - brute).abs().max().item<float>() < 1e-3);
        Assert.True(prediction.Scores[0].item<float>() <= brute.max().item<float>() + 1e-5);
    }

    [Fact]
    public void WithOneNeighbourTheScoreIsTheLargestPatchDistance()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 5);
        using var model = new PatchcoreModel(backbone, Small with { NumNeighbors = 1 });
        model.Fit(TextureSet.Batches(TextureSet.Normals(4, 32), 2));
        var test = TextureSet.Defective(2, 32);
        var patches = model.Embed(test).permute(0, 2, 3, 1).reshape(2, -1, model.MemoryBank.shape[1]);
        using var prediction = model.Predict(test);
        for (int i = 0; i < 2; i++)
        {
            float largest = cdist(patches[i], model.MemoryBank).min(1).values.max().item<float>();
            float score = prediction.Scores[i].item<float>();
            Assert.True(largest > 0, "the defective image has no distance to the bank");
            Assert.True(Math.Abs(score - largest) <= 1e-4 * largest, $"image {i}: score {score}, largest {largest}");
        }
    }

    [Fact]
    public void RanksDefectiveImagesAboveNormalOnes()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = new PatchcoreModel(backbone, Small with { DistanceChunkSize = 4096 });
        model.Fit(TextureSet.Batches(TextureSet.Normals(24, 64), 8));
        using var normal = model.Predict(TextureSet.Normals(4, 64, offset: 50));
        using var defective = model.Predict(TextureSet.Defective(4, 64));
        Assert.True(
            defective.Scores.min().item<float>() > normal.Scores.max().item<float>(),
            $"defective {string.Join(", ", defective.Scores.data<float>().ToArray())} vs normal "
                + $"{string.Join(", ", normal.Scores.data<float>().ToArray())}"
        );
    }

    [Fact]
    public void ExportedStateRestoresIdenticalPredictions()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var model = new PatchcoreModel(backbone, Small);
        model.Fit(TextureSet.Batches(TextureSet.Normals(3, 32), 3));
        using var state = model.ExportState();
        using var restored = new PatchcoreModel(backbone, Small);
        restored.ImportState(state);
        var test = TextureSet.Defective(2, 32);
        using var a = model.Predict(test);
        using var b = restored.Predict(test);
        Assert.True(a.Scores.eq(b.Scores).all().item<bool>());
        using var padimBackbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var padim = new TiledEnsemble.Models.Padim.PadimModel(padimBackbone, new() { NFeatures = 10 });
        Assert.Contains("Patchcore", Assert.Throws<ArgumentException>(() => padim.ImportState(state)).Message);
    }
}
