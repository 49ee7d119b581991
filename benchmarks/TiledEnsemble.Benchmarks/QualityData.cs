using System;
using System.Collections.Generic;
using System.IO;
using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The quality benchmarks' data sets, written at benchmark time with defects of 0.2 % of the image (scratch, spot,
/// cut): a real surface photograph by name (see <see cref="SurfacePhotoDataset"/>), "generated" (woven fabric),
/// "aligned parts" (<see cref="TextureKind.AlignedPart"/>) or <see cref="FaintParts"/>.
/// </summary>
internal static class QualityData
{
    /// <summary>Aligned parts whose defects are blended in at <see cref="FaintStrength"/>: at full contrast every way
    /// separates every aligned part, which ranks nothing.</summary>
    public const string FaintParts = "faint aligned parts";

    /// <summary>The faint parts' defect strength (<see cref="DefectDatasetOptions.DefectStrength"/>).</summary>
    public const double FaintStrength = 0.25;

    /// <summary>Writes <paramref name="dataset"/> under <paramref name="root"/>; returns its category.</summary>
    public static string Write(
        string root,
        string dataset,
        string? photos,
        int size,
        int trainCount,
        int testGood,
        int perDefect,
        int seed
    )
    {
        if (dataset is "generated" or "aligned parts" or FaintParts)
        {
            bool part = dataset != "generated";
            DefectDatasetGenerator.Write(
                root,
                new DefectDatasetOptions
                {
                    Category = part ? "part" : "fabric",
                    Texture = part ? TextureKind.AlignedPart : TextureKind.WovenFabric,
                    ImageSize = size,
                    TrainCount = trainCount,
                    TestGoodCount = testGood,
                    TestPerDefect = perDefect,
                    DefectAreaFraction = 0.002,
                    DefectStrength = dataset == FaintParts ? FaintStrength : 1,
                    Seed = seed,
                    DefectKinds = new[] { DefectKind.Scratch, DefectKind.Spot, DefectKind.Cut },
                }
            );
            return part ? "part" : "fabric";
        }

        SurfacePhotoDataset.Write(root, photos!, dataset, size, trainCount, testGood, perDefect, 0.002, seed);
        return dataset;
    }

    /// <summary>For each seed: writes <paramref name="dataset"/> into a temporary folder, gives <paramref name="use"/>
    /// the folder, the category and the seed, and deletes the folder.</summary>
    public static void ForEachSeed(
        string dataset,
        string? photos,
        (int Size, int TrainCount, int TestGood, int PerDefect) shape,
        IEnumerable<int> seeds,
        Action<string, string, int> use
    )
    {
        foreach (int seed in seeds)
        {
            var root = Directory.CreateTempSubdirectory("bench-quality-").FullName;
            try
            {
                var (size, trainCount, testGood, perDefect) = shape;
                use(root, Write(root, dataset, photos, size, trainCount, testGood, perDefect, seed), seed);
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
