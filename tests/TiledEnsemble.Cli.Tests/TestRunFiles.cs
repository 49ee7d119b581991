using System.IO;
using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Cli.Tests;

/// <summary>The generated fabric data set and the small Padim configuration the command-line tests train on.</summary>
internal static class TestRunFiles
{
    /// <summary>Writes <c>root/data/fabric</c> (MVTec layout) with one test image per defect kind.</summary>
    public static void WriteFabric(
        string root,
        int imageSize,
        int trainCount,
        int testGoodCount,
        params DefectKind[] defects
    ) =>
        DefectDatasetGenerator.Write(
            Path.Combine(root, "data"),
            new DefectDatasetOptions
            {
                Category = "fabric",
                ImageSize = imageSize,
                TrainCount = trainCount,
                TestGoodCount = testGoodCount,
                TestPerDefect = 1,
                DefectKinds = defects,
                DefectAreaFraction = 0.02,
            }
        );

    /// <summary>Writes a Padim configuration (10 features) over <c>dataRoot</c> to <paramref name="path"/>; returns the
    /// path.</summary>
    public static string WritePadimConfig(
        string path,
        int imageSize,
        int tile,
        int stride,
        int batch = 4,
        int seed = 3,
        string dataRoot = "data",
        int workers = 1,
        string extra = ""
    )
    {
        File.WriteAllText(
            path,
            $"""
            seed: {seed}
            tiling:
              image_size: {imageSize}
              tile_size: {tile}
              stride: {stride}
            data:
              class_path: MVTecAD
              init_args:
                root: {dataRoot}
                category: fabric
                train_batch_size: {batch}
                eval_batch_size: {batch}
                num_workers: {workers}
            TrainModels:
              model:
                class_path: Padim
                init_args:
                  n_features: 10
            {extra}
            """
        );
        return path;
    }
}
