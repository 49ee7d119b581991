using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Data.Imaging;

namespace TiledEnsemble.Data.Datasets;

/// <summary>
/// A dataset split into train, validation and test samples, with batch loading. Build one with <see cref="MvtecAD"/>,
/// <see cref="Visa"/>, <see cref="Folder"/> or <see cref="Quadra"/>; scanning validates the layout and says what it
/// expected and what it found.
/// </summary>
public sealed class AnomalyDataModule
{
    private readonly SampleLoader _loader;
    private readonly ILogger _logger;

    private AnomalyDataModule(
        string name,
        string category,
        (List<AnomalySample> Train, List<AnomalySample> Test) scanned,
        SplitOptions? split,
        LoaderOptions? loader,
        ILogger? logger
    )
    {
        Split = split ?? new SplitOptions();
        Loader = loader ?? new LoaderOptions();
        Loader.Validate();
        _logger = logger ?? NullLogger.Instance;
        var (train, validation, test) = DatasetSplitter.Split(scanned.Train, scanned.Test, Split);
        Name = name;
        Category = category;
        Train = train;
        Validation = validation;
        Test = test;
        _loader = new SampleLoader(Loader, _logger);
    }

    /// <summary>Dataset name ("MVTecAD", "Visa", "Folder", "Quadra").</summary>
    public string Name { get; }

    /// <summary>Category (or the folder dataset's name).</summary>
    public string Category { get; }

    /// <summary>Training samples (normal only).</summary>
    public IReadOnlyList<AnomalySample> Train { get; }

    /// <summary>Validation samples (may be the test samples; see <see cref="SplitOptions.ValSplitMode"/>).</summary>
    public IReadOnlyList<AnomalySample> Validation { get; }

    /// <summary>Test samples.</summary>
    public IReadOnlyList<AnomalySample> Test { get; }

    /// <summary>Split settings used.</summary>
    public SplitOptions Split { get; }

    /// <summary>Loader settings used.</summary>
    public LoaderOptions Loader { get; }

    /// <summary>MVTec AD: <c>root/category/train/good</c>, <c>test/&lt;defect&gt;</c>,
    /// <c>ground_truth/&lt;defect&gt;/&lt;name&gt;_mask.png</c>.</summary>
    public static AnomalyDataModule MvtecAD(
        string root,
        string category,
        SplitOptions? split = null,
        LoaderOptions? loader = null,
        ILogger? logger = null
    ) => new("MVTecAD", category, DatasetLayouts.MvtecLike(root, category, "MVTec AD"), split, loader, logger);

    /// <summary>VisA, in its original layout (<c>split_csv/1cls.csv</c>) or converted to the MVTec-like
    /// layout.</summary>
    public static AnomalyDataModule Visa(
        string root,
        string category,
        SplitOptions? split = null,
        LoaderOptions? loader = null,
        ILogger? logger = null
    )
    {
        var scanned = File.Exists(Path.Combine(root, "split_csv", "1cls.csv"))
            ? DatasetLayouts.VisaOriginal(root, category)
            : DatasetLayouts.MvtecLike(root, category, "VisA (converted)");
        return new AnomalyDataModule("Visa", category, scanned, split, loader, logger);
    }

    /// <summary>A folder dataset: normal images, optionally abnormal images, their masks and separate normal test
    /// images.</summary>
    public static AnomalyDataModule Folder(
        string name,
        string normalDir,
        string? abnormalDir = null,
        string? maskDir = null,
        string? normalTestDir = null,
        SplitOptions? split = null,
        LoaderOptions? loader = null,
        ILogger? logger = null
    ) =>
        new(
            "Folder",
            name,
            DatasetLayouts.Folder(normalDir, abnormalDir, maskDir, normalTestDir),
            split,
            loader,
            logger
        );

    /// <summary>quadra's layout: <c>train/good</c>, <c>test/good</c>, <c>test/&lt;defect&gt;</c>,
    /// <c>test/unknown</c>.</summary>
    public static AnomalyDataModule Quadra(
        string root,
        SplitOptions? split = null,
        LoaderOptions? loader = null,
        ILogger? logger = null
    ) =>
        new(
            "Quadra",
            Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root))),
            DatasetLayouts.Quadra(root),
            split,
            loader,
            logger
        );

    /// <summary>Training batches.</summary>
    public IEnumerable<SampleBatch> TrainBatches(CancellationToken cancellationToken = default) =>
        _loader.Batches(Train, Loader.TrainBatchSize, cancellationToken);

    /// <summary>Validation batches.</summary>
    public IEnumerable<SampleBatch> ValidationBatches(CancellationToken cancellationToken = default) =>
        _loader.Batches(Validation, Loader.EvalBatchSize, cancellationToken);

    /// <summary>Test batches.</summary>
    public IEnumerable<SampleBatch> TestBatches(CancellationToken cancellationToken = default) =>
        _loader.Batches(Test, Loader.EvalBatchSize, cancellationToken);

    /// <summary>Batches of any samples with this module's loader settings.</summary>
    public IEnumerable<SampleBatch> Batches(
        IReadOnlyList<AnomalySample> samples,
        int batchSize,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        }

        return _loader.Batches(samples, batchSize, cancellationToken);
    }

    /// <summary>Decodes every image and mask once and returns the files that cannot be read, with the reason.</summary>
    public IReadOnlyList<(string Path, string Reason)> FindUnreadableFiles()
    {
        var bad = new List<(string, string)>();
        var files = Train
            .Concat(Validation)
            .Concat(Test)
            .SelectMany(s => s.MaskPath is null ? new[] { s.ImagePath } : new[] { s.ImagePath, s.MaskPath })
            .Distinct();
        foreach (var file in files)
        {
            try
            {
                using var decoded = ImageIO.ReadImage(file, ColorMode.Unchanged);
            }
            catch (Exception exception) when (exception is IOException)
            {
                bad.Add((file, exception.Message));
            }
        }

        return bad;
    }
}
