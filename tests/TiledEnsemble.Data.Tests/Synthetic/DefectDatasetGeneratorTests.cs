using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Tests.Synthetic;

public sealed class DefectDatasetGeneratorTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(TextureKind.WovenFabric, DefectKind.Scratch)]
    [InlineData(TextureKind.WoodGrain, DefectKind.Spot)]
    [InlineData(TextureKind.BrushedMetal, DefectKind.Cut)]
    [InlineData(TextureKind.Tiles, DefectKind.ColorStain)]
    [InlineData(TextureKind.WovenFabric, DefectKind.MissingPattern)]
    public void MaskIsExactlyThePixelsTheDefectChanged(TextureKind texture, DefectKind defect)
    {
        using var scope = NewDisposeScope();
        var options = new DefectDatasetOptions
        {
            Texture = texture,
            ImageSize = 96,
            DefectAreaFraction = 0.005,
        };
        var (clean, defective, mask) = DefectDatasetGenerator.RenderDefective(options, defect, 1);
        var changed = (defective - clean)
            .abs()
            .amax(new long[] { 0 }, keepdim: true)
            .gt(TestTensors.Full(new long[] { 1 }, 1e-6))
            .to_type(ScalarType.Float32);
        Assert.True(
            changed.eq(mask).all().item<bool>(),
            $"mask and changed pixels differ at {changed.ne(mask).sum().item<long>()} pixels"
        );
        var area = mask.sum().item<float>() / (96 * 96);
        Assert.True(area > 0.001 && area < 0.02, $"defect area {area:P2}");
    }

    [Fact]
    public void DefectsCanBeSmallerThanOnePercentOfTheImage()
    {
        using var scope = NewDisposeScope();
        var options = new DefectDatasetOptions { ImageSize = 256, DefectAreaFraction = 0.002 };
        foreach (var kind in Enum.GetValues<DefectKind>())
        {
            var (_, _, mask) = DefectDatasetGenerator.RenderDefective(options, kind, 0);
            var area = mask.sum().item<float>() / (256 * 256);
            Assert.True(area > 0 && area < 0.01, $"{kind}: {area:P2}");
        }
    }

    [Fact]
    public void WritesTheMvtecLayoutDeterministically()
    {
        using var scope = NewDisposeScope();
        var options = new DefectDatasetOptions
        {
            ImageSize = 32,
            TrainCount = 3,
            TestGoodCount = 2,
            TestPerDefect = 1,
            DefectKinds = new[] { DefectKind.Spot, DefectKind.ColorStain },
            DefectAreaFraction = 0.02,
            Seed = 5,
        };
        var first = DefectDatasetGenerator.Write(_temp.Combine("a"), options);
        var second = DefectDatasetGenerator.Write(_temp.Combine("b"), options);
        var files = Directory
            .GetFiles(first, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(first, f))
            .OrderBy(f => f)
            .ToArray();
        Assert.Equal(
            new[]
            {
                Path.Combine("ground_truth", "color_stain", "000_mask.png"),
                Path.Combine("ground_truth", "spot", "000_mask.png"),
                Path.Combine("test", "color_stain", "000.png"),
                Path.Combine("test", "good", "000.png"),
                Path.Combine("test", "good", "001.png"),
                Path.Combine("test", "spot", "000.png"),
                Path.Combine("train", "good", "000.png"),
                Path.Combine("train", "good", "001.png"),
                Path.Combine("train", "good", "002.png"),
            },
            files
        );
        foreach (var file in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, file)), File.ReadAllBytes(Path.Combine(second, file)));
        }

        var other = DefectDatasetGenerator.Write(_temp.Combine("c"), options with { Seed = 6 });
        Assert.NotEqual(
            File.ReadAllBytes(Path.Combine(first, "train", "good", "000.png")),
            File.ReadAllBytes(Path.Combine(other, "train", "good", "000.png"))
        );

        var written = ImageIO.ReadImage(Path.Combine(first, "test", "spot", "000.png"));
        var (_, rendered, mask) = DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, 0);
        Assert.True((written - rendered).abs().max().item<float>() < 1e-6);
        Assert.True(
            (ImageIO.ReadMask(Path.Combine(first, "ground_truth", "spot", "000_mask.png")) - mask)
                .abs()
                .max()
                .item<float>() == 0
        );
    }

    [Fact]
    public void AFaintDefectIsTheFullOneBlendedByItsStrengthAtTheSamePlace()
    {
        using var scope = NewDisposeScope();
        var full = new DefectDatasetOptions
        {
            ImageSize = 64,
            Texture = TextureKind.AlignedPart,
            DefectAreaFraction = 0.02,
        };
        using var quarter = 0.25f.ToScalar();
        using var none = 0f.ToScalar();
        using var one = 1f.ToScalar();
        foreach (var kind in new[] { DefectKind.Spot, DefectKind.Scratch, DefectKind.Cut })
        {
            var (clean, strong, strongMask) = DefectDatasetGenerator.RenderDefective(full, kind, 1);
            var (faintClean, faint, faintMask) = DefectDatasetGenerator.RenderDefective(
                full with
                {
                    DefectStrength = 0.25,
                },
                kind,
                1
            );
            Assert.Equal(0f, (faintClean - clean).abs().max().item<float>());

            // A quarter of the full departure, up to the 8-bit rounding of both images.
            var expected = clean.add(strong.sub(clean).mul(quarter), one);
            float error = (faint - expected).abs().max().item<float>();
            Assert.True(error <= 1.01f / 255, $"{kind}: {error * 255:F2} levels from a quarter of the full defect");
            Assert.True(faintMask.sub(strongMask).clamp_min(none).sum().item<float>() == 0, $"{kind}: mask grew");
            Assert.True(faintMask.sum().item<float>() > 0, $"{kind}: the faint defect changed nothing");
        }
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        foreach (double strength in new[] { 0, -0.5, 1.5, double.NaN })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
                DefectDatasetGenerator.Write(_temp.Path, new DefectDatasetOptions { DefectStrength = strength })
            );
            Assert.Equal(nameof(DefectDatasetOptions.DefectStrength), error.ParamName);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DefectDatasetGenerator.Write(_temp.Path, new DefectDatasetOptions { ImageSize = 4 })
        );
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DefectDatasetGenerator.Write(_temp.Path, new DefectDatasetOptions { DefectAreaFraction = 0 })
        );
        Assert.Throws<ArgumentException>(() =>
            DefectDatasetGenerator.Write(_temp.Path, new DefectDatasetOptions { Category = "a/b" })
        );
    }
}
