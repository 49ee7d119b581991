using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The quality benchmarks' data sets, written at benchmark time with defects of 0.2 % of the image (scratch, spot,
/// cut): a real surface photograph by name (see <see cref="SurfacePhotoDataset"/>), "generated" (woven fabric) or
/// "aligned parts" (<see cref="TextureKind.AlignedPart"/>).
/// </summary>
internal static class QualityData
{
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
        if (dataset is "generated" or "aligned parts")
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
                    Seed = seed,
                    DefectKinds = new[] { DefectKind.Scratch, DefectKind.Spot, DefectKind.Cut },
                }
            );
            return part ? "part" : "fabric";
        }

        SurfacePhotoDataset.Write(root, photos!, dataset, size, trainCount, testGood, perDefect, 0.002, seed);
        return dataset;
    }
}
