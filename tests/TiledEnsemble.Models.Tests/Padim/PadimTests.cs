using System;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Padim;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Padim;

public class PadimTests
{
    internal static readonly PadimOptions Small = new() { NFeatures = 12 };

    /// <summary>
    /// The same Gaussian written with its 12 channels in another order, as a state saved with an unsorted index is.
    /// </summary>
    internal static ModelState WithShuffledIndex(ModelState state)
    {
        using var scope = NewDisposeScope();
        var permutation = tensor(new long[] { 3, 11, 0, 7, 1, 10, 2, 9, 4, 8, 5, 6 });
        var covariance = state.Tensors["inverse_covariance"].index_select(1, permutation).index_select(2, permutation);
        return new ModelState(
            new System.Collections.Generic.Dictionary<string, Tensor>
            {
                ["mean"] = state.Tensors["mean"].index_select(0, permutation).MoveToOuterDisposeScope(),
                ["inverse_covariance"] = covariance.MoveToOuterDisposeScope(),
                ["feature_index"] = state
                    .Tensors["feature_index"]
                    .index_select(0, permutation)
                    .MoveToOuterDisposeScope(),
            },
            state.Metadata
        );
    }

    [Fact]
    public void GaussianStatisticsEqualADirectComputation()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var model = new PadimModel(backbone, Small);
        var images = TextureSet.Normals(7, 32);
        model.Fit(TextureSet.Batches(images, 3));

        // Direct, in doubles, per position: mean and unbiased covariance of the 7 embeddings, plus 0.01 I.
        var embedding = model.Embed(images).flatten(2).to_type(ScalarType.Float64); // [7, C, P]
        var e = embedding.data<double>().ToArray();
        int n = 7,
            c = 12,
            positions = (int)embedding.shape[2];
        foreach (var p in new[] { 0, positions / 2, positions - 1 })
        {
            var mean = new double[c];
            for (int k = 0; k < c; k++)
            {
                mean[k] = Enumerable.Range(0, n).Average(i => e[(i * c * positions) + (k * positions) + p]);
                Assert.Equal(mean[k], model.Mean[k, p].item<float>(), 3);
            }

            var covariance = zeros(new long[] { c, c }, ScalarType.Float64);
            var values = new double[c, c];
            for (int a = 0; a < c; a++)
            {
                for (int b = 0; b < c; b++)
                {
                    double sum = 0;
                    for (int i = 0; i < n; i++)
                    {
                        sum +=
                            (e[(i * c * positions) + (a * positions) + p] - mean[a])
                            * (e[(i * c * positions) + (b * positions) + p] - mean[b]);
                    }

                    values[a, b] = (sum / (n - 1)) + (a == b ? 0.01 : 0);
                }
            }

            var recovered = linalg.inv(model.InverseCovariance[p].to_type(ScalarType.Float64));
            var expected = tensor(values);
            var relative = ((recovered - expected).abs().max() / expected.abs().max()).item<double>();
            Assert.True(relative < 1e-3, $"position {p}: relative covariance error {relative}");
        }
    }

    [Fact]
    public void RanksDefectiveImagesAboveNormalOnes()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 42);
        using var model = new PadimModel(backbone, new PadimOptions { NFeatures = 20 });
        model.Fit(TextureSet.Batches(TextureSet.Normals(24, 64), 8));
        using var normal = model.Predict(TextureSet.Normals(4, 64, offset: 50));
        using var defective = model.Predict(TextureSet.Defective(4, 64));
        Assert.Equal(new long[] { 4, 1, 64, 64 }, normal.AnomalyMaps.shape);
        var maxNormal = normal.Scores.max().item<float>();
        var minDefective = defective.Scores.min().item<float>();
        Assert.True(
            minDefective > maxNormal,
            $"defective scores {string.Join(", ", defective.Scores.data<float>().ToArray())} vs normal "
                + $"{string.Join(", ", normal.Scores.data<float>().ToArray())}"
        );
    }

    [Fact]
    public void ExportedStateRestoresIdenticalPredictionsAndIsChecked()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var model = new PadimModel(backbone, Small);
        model.Fit(TextureSet.Batches(TextureSet.Normals(4, 32), 2));
        using var state = model.ExportState();
        using var restored = new PadimModel(backbone, Small);
        restored.ImportState(state);
        var test = TextureSet.Defective(2, 32);
        using var a = model.Predict(test);
        using var b = restored.Predict(test);
        Assert.True(a.AnomalyMaps.eq(b.AnomalyMaps).all().item<bool>());

        using var other = new PadimModel(backbone, Small with { NFeatures = 13 });
        Assert.Contains("n_features", Assert.Throws<ArgumentException>(() => other.ImportState(state)).Message);
        Assert.Throws<InvalidOperationException>(() => new PadimModel(backbone, Small).Predict(test));
        Assert.Throws<InvalidOperationException>(() =>
            new PadimModel(backbone, Small).Fit(TextureSet.Batches(TextureSet.Normals(1, 32), 1))
        );
        Assert.Contains(
            "NaN",
            Assert
                .Throws<ArgumentException>(() =>
                    model.Predict(TestTensors.Full(new long[] { 1, 3, 32, 32 }, float.NaN))
                )
                .Message
        );
        var oneInfinite = zeros(1, 3, 32, 32);
        oneInfinite[0, 1, 5, 7] = TestTensors.Full(new long[] { 1 }, float.PositiveInfinity)[0];
        Assert.Contains("infinite", Assert.Throws<ArgumentException>(() => model.Predict(oneInfinite)).Message);
        Assert.Throws<ArgumentException>(() => model.Predict(zeros(1, 1, 32, 32)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChannelSelectionEqualsUpsamplingEveryLayerThenSelecting(bool sorted)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layers = new[]
        {
            randn(2, 4, 8, 8, generator: generator),
            randn(2, 6, 4, 4, generator: generator),
            randn(2, 5, 3, 3, generator: generator),
        };
        long[] index = { 13, 2, 9, 14, 0, 5, 10 };
        if (sorted)
        {
            Array.Sort(index);
        }

        // Reference: the paper's order of operations, with libtorch's own nearest interpolation (8 / 3 is not whole).
        var upsampled = layers
            .Select(l => nn.functional.interpolate(l, new long[] { 8, 8 }, mode: InterpolationMode.Nearest))
            .ToArray();
        var expected = cat(upsampled, 1).index_select(1, tensor(index));
        using var selection = ChannelSelection.Create(index, new long[] { 4, 6, 5 }, CPU);
        var actual = selection.Apply(layers);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>());
    }

    [Fact]
    public void ImportRestoresAFeatureIndexInAnyOrderAndRefusesABadOne()
    {
        using var scope = NewDisposeScope();
        using var backbone = ResNet.Create(BackboneKind.ResNet18, 1);
        using var model = new PadimModel(backbone, Small);
        model.Fit(TextureSet.Batches(TextureSet.Normals(4, 32), 2));
        var test = TextureSet.Defective(2, 32);
        using var original = model.Predict(test);
        using var state = model.ExportState();

        var shuffled = WithShuffledIndex(state);
        using var restored = new PadimModel(backbone, Small);
        restored.ImportState(shuffled);
        using var again = restored.Predict(test);
        var difference = (again.AnomalyMaps - original.AnomalyMaps).abs().max().item<float>();
        Assert.True(
            difference < 1e-3f * original.AnomalyMaps.abs().max().item<float>(),
            $"maps differ by {difference}"
        );

        foreach (
            var bad in new[]
            {
                new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 448 },
                new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10 },
            }
        )
        {
            var corrupt = new ModelState(
                new System.Collections.Generic.Dictionary<string, Tensor>
                {
                    ["mean"] = state.Tensors["mean"],
                    ["inverse_covariance"] = state.Tensors["inverse_covariance"],
                    ["feature_index"] = tensor(bad),
                },
                state.Metadata
            );
            var error = Assert.Throws<ArgumentException>(() => restored.ImportState(corrupt));
            Assert.Contains("feature_index", error.Message);
            using var unchanged = restored.Predict(test);
            Assert.True(unchanged.AnomalyMaps.eq(again.AnomalyMaps).all().item<bool>());
        }
    }
}
