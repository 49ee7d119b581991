using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Tests.Datasets;

public sealed class DataModuleTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public DataModuleTests()
    {
        DefectDatasetGenerator.Write(
            _temp.Combine("mvtec"),
            new DefectDatasetOptions
            {
                Category = "fabric",
                ImageSize = 32,
                TrainCount = 6,
                TestGoodCount = 4,
                TestPerDefect = 2,
                DefectKinds = new[] { DefectKind.Spot, DefectKind.Scratch },
                DefectAreaFraction = 0.02,
            }
        );
    }

    public void Dispose() => _temp.Dispose();

    private static LoaderOptions Small =>
        new()
        {
            ImageSize = 16,
            TrainBatchSize = 4,
            EvalBatchSize = 3,
            NumWorkers = 2,
        };

    [Fact]
    public void MvtecScanFindsCountsLabelsAndMasks()
    {
        var data = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small);
        Assert.Equal(6, data.Train.Count);
        Assert.Equal(8, data.Test.Count);
        Assert.Same(data.Test, data.Validation);
        Assert.Equal(4, data.Test.Count(s => s.Label == SampleLabel.Anomalous));
        Assert.All(data.Test.Where(s => s.Label == SampleLabel.Anomalous), s =>
            Assert.EndsWith("_mask.png", s.MaskPath)
        );
        Assert.Equal(
            new[] { "good", "scratch", "spot" },
            data.Test.Select(s => s.DefectType).Distinct().OrderBy(d => d).ToArray()
        );
    }

    [Fact]
    public void BatchesHoldResizedImagesMasksAndLabels()
    {
        using var scope = NewDisposeScope();
        var data = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small);
        var batches = data.TestBatches().ToList();
        Assert.Equal(new[] { 3, 3, 2 }, batches.Select(b => b.Count).ToArray());
        var first = batches[0];
        Assert.Equal(new long[] { 3, 3, 16, 16 }, first.Images.shape);
        Assert.Equal(new long[] { 3, 1, 16, 16 }, first.Masks.shape);
        var labels = batches.SelectMany(b => b.Labels.data<long>().ToArray()).ToArray();
        Assert.Equal(data.Test.Select(s => (long)s.Label).ToArray(), labels);
        for (int b = 0; b < batches.Count; b++)
        {
            for (int i = 0; i < batches[b].Count; i++)
            {
                var anomalous = batches[b].Samples[i].Label == SampleLabel.Anomalous;
                Assert.Equal(anomalous, batches[b].Masks[i].sum().item<float>() > 0);
                Assert.Equal(new TiledEnsemble.Tiling.Size2D(32, 32), batches[b].OriginalSizes[i]);
            }
        }

        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void BackgroundWorkersGiveTheSameBatchesAsTheCallerThread()
    {
        using var scope = NewDisposeScope();
        var serial = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small with { NumWorkers = 0 });
        var parallel = AnomalyDataModule.MvtecAD(
            _temp.Combine("mvtec"),
            "fabric",
            loader: Small with
            {
                NumWorkers = 3,
                PrefetchBatches = 1,
            }
        );
        var a = serial.TrainBatches().ToList();
        var b = parallel.TrainBatches().ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.True(a[i].Images.eq(b[i].Images).all().item<bool>());
            Assert.Equal(a[i].Samples, b[i].Samples);
        }
    }

    [Fact]
    public void MissingCategoryListsWhatExists()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() =>
            AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "bottle")
        );
        Assert.Contains("bottle", error.Message);
        Assert.Contains("fabric", error.Message);
        Assert.Throws<DirectoryNotFoundException>(() => AnomalyDataModule.MvtecAD(_temp.Combine("nowhere"), "fabric"));
    }

    [Fact]
    public void MissingMaskIsNamed()
    {
        File.Delete(_temp.Combine("mvtec", "fabric", "ground_truth", "spot", "001_mask.png"));
        var error = Assert.Throws<InvalidDataException>(() =>
            AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric")
        );
        Assert.Contains(Path.Combine("ground_truth", "spot", "001_mask.png"), error.Message);
    }

    [Fact]
    public void MaskOfAnotherSizeIsRejectedWithBothSizes()
    {
        using var scope = NewDisposeScope();
        ImageIO.WriteImage(_temp.Combine("mvtec", "fabric", "ground_truth", "spot", "000_mask.png"), zeros(1, 20, 20));
        var data = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small);
        var error = Assert.Throws<ImageDecodeException>(() => data.TestBatches().ToList());
        Assert.Contains("20x20", error.Message);
        Assert.Contains("32x32", error.Message);
    }

    [Fact]
    public void CorruptFilesFailOrAreSkippedBySetting()
    {
        using var scope = NewDisposeScope();
        var corrupt = _temp.Combine("mvtec", "fabric", "train", "good", "002.png");
        File.WriteAllText(corrupt, "garbage");
        var failing = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small);
        Assert.Contains(corrupt, Assert.Throws<ImageDecodeException>(() => failing.TrainBatches().ToList()).Message);
        Assert.Contains(failing.FindUnreadableFiles(), f => f.Path == corrupt);

        var skipping = AnomalyDataModule.MvtecAD(
            _temp.Combine("mvtec"),
            "fabric",
            loader: Small with
            {
                BadFilePolicy = BadFilePolicy.Skip,
            }
        );
        Assert.Equal(5, skipping.TrainBatches().Sum(b => b.Count));
    }

    [Fact]
    public void FromTestSplitIsStratifiedAndReproducible()
    {
        var split = new SplitOptions
        {
            ValSplitMode = ValSplitMode.FromTest,
            ValSplitRatio = 0.5,
            Seed = 3,
        };
        var a = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split);
        var b = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split);
        Assert.Equal(2, a.Validation.Count(s => s.Label == SampleLabel.Normal));
        Assert.Equal(2, a.Validation.Count(s => s.Label == SampleLabel.Anomalous));
        Assert.Equal(4, a.Test.Count);
        Assert.Empty(a.Validation.Intersect(a.Test));
        Assert.Equal(a.Validation, b.Validation);
        var c = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split with { Seed = 4 });
        Assert.Equal(a.Validation.Count, c.Validation.Count);
    }

    [Fact]
    public void FromTrainHoldsOutGoodTrainingImagesThatNoModelSees()
    {
        var split = new SplitOptions
        {
            ValSplitMode = ValSplitMode.FromTrain,
            ValSplitRatio = 0.5,
            Seed = 3,
        };
        var all = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric");
        var a = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split);
        var b = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split);

        // 6 training images: 3 held out, 3 left to fit on; the test split is the dataset's, untouched.
        Assert.Equal(3, a.Validation.Count);
        Assert.Equal(3, a.Train.Count);
        Assert.All(a.Validation, s => Assert.Equal(SampleLabel.Normal, s.Label));
        Assert.All(a.Validation, s => Assert.Contains(Path.Combine("train", "good"), s.ImagePath));
        Assert.Empty(a.Validation.Select(s => s.ImagePath).Intersect(a.Train.Select(s => s.ImagePath)));
        Assert.Equal(
            all.Train.Select(s => s.ImagePath).Order(),
            a.Train.Concat(a.Validation).Select(s => s.ImagePath).Order()
        );
        Assert.Equal(all.Test.Select(s => s.ImagePath).Order(), a.Test.Select(s => s.ImagePath).Order());
        Assert.Equal(a.Validation, b.Validation);

        var none = Assert.Throws<InvalidOperationException>(() =>
            AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split with { ValSplitRatio = 0.05 })
        );
        Assert.Contains("FromTrain", none.Message);
    }

    [Fact]
    public void APerImageTransformOnTheWorkersEqualsCuttingTheFullBatch()
    {
        using var scope = NewDisposeScope();
        var data = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", loader: Small);
        var loader = new SampleLoader(Small);
        static Tensor Cut(Tensor image)
        {
            using var inner = NewDisposeScope();
            return image.narrow(1, 4, 8).narrow(2, 2, 8).contiguous().MoveToOuterDisposeScope();
        }

        // The test split has normal images without mask files (their empty masks are made at the cut size) and
        // anomalous ones with masks.
        var full = loader.Batches(data.Test, 3).ToList();
        var cut = loader.Batches(data.Test, 3, Cut).ToList();
        Assert.Equal(full.Count, cut.Count);
        foreach (var (whole, part) in full.Zip(cut))
        {
            Assert.Equal(new long[] { whole.Count, 3, 8, 8 }, part.Images.shape);
            Assert.True(whole.Images.narrow(2, 4, 8).narrow(3, 2, 8).eq(part.Images).all().item<bool>());
            Assert.Equal(new long[] { whole.Count, 1, 8, 8 }, part.Masks.shape);
            Assert.True(whole.Masks.narrow(2, 4, 8).narrow(3, 2, 8).eq(part.Masks).all().item<bool>());
            Assert.True(whole.Labels.eq(part.Labels).all().item<bool>());
        }

        Assert.Contains(full, b => b.Masks.sum().item<float>() > 0);
        var error = Assert.Throws<InvalidOperationException>(() =>
            loader.Batches(data.Test, 3, image => image[..1]).ToList()
        );
        Assert.Contains("per-image transform", error.Message);
        Assert.Contains(".png", error.Message);
    }

    [Fact]
    public void SyntheticValidationPaintsDefectsOnHeldOutTrainingImages()
    {
        using var scope = NewDisposeScope();
        var split = new SplitOptions
        {
            ValSplitMode = ValSplitMode.Synthetic,
            ValSplitRatio = 0.5,
            SyntheticDefectArea = 0.05,
        };
        var data = AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", split, Small);
        Assert.Equal(3, data.Train.Count);
        Assert.Equal(3, data.Validation.Count);
        Assert.Empty(
            data.Train.Intersect(
                data.Validation.Select(s =>
                    s with
                    {
                        Label = SampleLabel.Normal,
                        DefectType = "good",
                        Synthetic = null,
                    }
                )
            )
        );
        var synthetic = data.Validation.Where(s => s.Synthetic is not null).ToList();
        Assert.NotEmpty(synthetic);
        var batch = data.Batches(synthetic, 8).Single();
        Assert.True(batch.Masks.sum().item<float>() > 0);
    }

    [Fact]
    public void FromDirMovesTrainingImagesWhenTheTestSetHasNoNormalImages()
    {
        Directory.Delete(_temp.Combine("mvtec", "fabric", "test", "good"), recursive: true);
        var data = AnomalyDataModule.MvtecAD(
            _temp.Combine("mvtec"),
            "fabric",
            new SplitOptions { TestSplitRatio = 0.5 }
        );
        Assert.Equal(3, data.Train.Count);
        Assert.Equal(3, data.Test.Count(s => s.Label == SampleLabel.Normal));
    }

    [Fact]
    public void FolderLayoutPairsMasksByName()
    {
        var root = _temp.Combine("mvtec", "fabric");
        var data = AnomalyDataModule.Folder(
            "mine",
            Path.Combine(root, "train", "good"),
            Path.Combine(root, "test", "spot"),
            Path.Combine(root, "ground_truth", "spot"),
            Path.Combine(root, "test", "good")
        );
        Assert.Equal(6, data.Train.Count);
        Assert.Equal(2, data.Test.Count(s => s.Label == SampleLabel.Anomalous && s.MaskPath is not null));
        Assert.Equal(4, data.Test.Count(s => s.Label == SampleLabel.Normal));
        Directory.CreateDirectory(_temp.Combine("no-masks"));
        var error = Assert.Throws<InvalidDataException>(() =>
            AnomalyDataModule.Folder(
                "x",
                Path.Combine(root, "train", "good"),
                Path.Combine(root, "test", "spot"),
                _temp.Combine("no-masks")
            )
        );
        Assert.Contains("000.png", error.Message);
    }

    [Fact]
    public void QuadraLayoutHandlesUnknownImagesAndMissingMasks()
    {
        using var scope = NewDisposeScope();
        var root = _temp.Combine("quadra");
        var source = _temp.Combine("mvtec", "fabric");
        Directory.CreateDirectory(Path.Combine(root, "train", "good"));
        Directory.CreateDirectory(Path.Combine(root, "test", "unknown"));
        Directory.CreateDirectory(Path.Combine(root, "test", "dent"));
        File.Copy(Path.Combine(source, "train", "good", "000.png"), Path.Combine(root, "train", "good", "a.png"));
        File.Copy(Path.Combine(source, "test", "good", "000.png"), Path.Combine(root, "test", "unknown", "u.png"));
        File.Copy(Path.Combine(source, "test", "spot", "000.png"), Path.Combine(root, "test", "dent", "d.png"));
        var data = AnomalyDataModule.Quadra(root, loader: Small);
        Assert.Contains(data.Test, s => s.Label == SampleLabel.Unknown && s.DefectType == "unknown");
        var batch = data.TestBatches().Single();
        var dent = batch.Samples.ToList().FindIndex(s => s.DefectType == "dent");
        Assert.Equal(16f * 16f, batch.Masks[dent].sum().item<float>());
        Assert.Contains(-1L, batch.Labels.data<long>().ToArray());
    }

    [Fact]
    public void VisaOriginalLayoutReadsTheSplitCsv()
    {
        var root = _temp.Combine("visa");
        var source = _temp.Combine("mvtec", "fabric");
        Directory.CreateDirectory(Path.Combine(root, "split_csv"));
        Directory.CreateDirectory(Path.Combine(root, "candle", "Data", "Images", "Normal"));
        Directory.CreateDirectory(Path.Combine(root, "candle", "Data", "Images", "Anomaly"));
        Directory.CreateDirectory(Path.Combine(root, "candle", "Data", "Masks", "Anomaly"));
        File.Copy(
            Path.Combine(source, "train", "good", "000.png"),
            Path.Combine(root, "candle", "Data", "Images", "Normal", "0000.png")
        );
        File.Copy(
            Path.Combine(source, "test", "good", "000.png"),
            Path.Combine(root, "candle", "Data", "Images", "Normal", "0001.png")
        );
        File.Copy(
            Path.Combine(source, "test", "spot", "000.png"),
            Path.Combine(root, "candle", "Data", "Images", "Anomaly", "0002.png")
        );
        File.Copy(
            Path.Combine(source, "ground_truth", "spot", "000_mask.png"),
            Path.Combine(root, "candle", "Data", "Masks", "Anomaly", "0002.png")
        );
        File.WriteAllLines(
            Path.Combine(root, "split_csv", "1cls.csv"),
            new[]
            {
                "object,split,label,image,mask",
                "candle,train,normal,candle/Data/Images/Normal/0000.png,",
                "candle,test,normal,candle/Data/Images/Normal/0001.png,",
                "candle,test,anomaly,candle/Data/Images/Anomaly/0002.png,candle/Data/Masks/Anomaly/0002.png",
                "pcb1,train,normal,pcb1/Data/Images/Normal/0000.png,",
            }
        );
        var data = AnomalyDataModule.Visa(root, "candle");
        Assert.Single(data.Train);
        Assert.Equal(2, data.Test.Count);
        Assert.NotNull(data.Test.Single(s => s.Label == SampleLabel.Anomalous).MaskPath);
        var error = Assert.Throws<InvalidDataException>(() => AnomalyDataModule.Visa(root, "fryum"));
        Assert.Contains("candle", error.Message);
        Assert.Contains("pcb1", error.Message);
    }

    [Fact]
    public void VisaConvertedLayoutIsMvtecLike()
    {
        var data = AnomalyDataModule.Visa(_temp.Combine("mvtec"), "fabric");
        Assert.Equal(6, data.Train.Count);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            AnomalyDataModule.MvtecAD(_temp.Combine("mvtec"), "fabric", new SplitOptions { ValSplitRatio = 1.5 })
        );
        Assert.Throws<ArgumentException>(() =>
            AnomalyDataModule.MvtecAD(
                _temp.Combine("mvtec"),
                "fabric",
                new SplitOptions { TestSplitMode = TestSplitMode.None }
            )
        );
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            AnomalyDataModule.MvtecAD(
                _temp.Combine("mvtec"),
                "fabric",
                loader: new LoaderOptions { TrainBatchSize = 0 }
            )
        );
    }

    [Fact]
    public void AnImageFarSmallerThanTheImageSizeIsLoadedWithAWarningNamingIt()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        var tiny = temp.Combine("tiny.png");
        ImageIO.WriteImage(tiny, rand(3, 1, 1));
        var logger = new ListLogger();
        var loader = new SampleLoader(new LoaderOptions { ImageSize = 64, NumWorkers = 0 }, logger);
        foreach (var batch in loader.Batches(new[] { new AnomalySample(tiny, SampleLabel.Normal, "good") }, 1))
        {
            Assert.Equal(new long[] { 1, 3, 64, 64 }, batch.Images.shape);
            batch.Dispose();
        }

        Assert.Contains(logger.Messages, m =>
            m.Contains("tiny.png") && m.Contains("1x1") && m.Contains("enlarged more than four times")
        );
    }
}
