using System;
using System.IO;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Tests;

/// <summary>A small generated MVTec-layout dataset shared by the integration tests of one class.</summary>
public sealed class GeneratedData : IDisposable
{
    public GeneratedData()
    {
        Root = Directory.CreateTempSubdirectory("ensemble-data-").FullName;
        DefectDatasetGenerator.Write(
            Root,
            new DefectDatasetOptions
            {
                Category = "fabric",
                Texture = TextureKind.WovenFabric,
                ImageSize = 128,
                TrainCount = 20,
                TestGoodCount = 6,
                TestPerDefect = 2,
                DefectKinds = new[] { DefectKind.Spot, DefectKind.Cut, DefectKind.Scratch },
                DefectAreaFraction = 0.004,
                Seed = 11,
            }
        );
    }

    public string Root { get; }

    public AnomalyDataModule Module(int batch = 8, SplitOptions? split = null) =>
        AnomalyDataModule.MvtecAD(
            Root,
            "fabric",
            split,
            new LoaderOptions
            {
                ImageSize = 128,
                TrainBatchSize = batch,
                EvalBatchSize = batch,
                NumWorkers = 2,
            }
        );

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
    }
}
