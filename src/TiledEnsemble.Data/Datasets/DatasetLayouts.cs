using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TiledEnsemble.Data.Datasets;

/// <summary>Finds the samples of the on-disk layouts users already have: MVTec AD, VisA, folder and quadra.</summary>
internal static class DatasetLayouts
{
    public static readonly string[] ImageExtensions = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff" };

    /// <summary><c>root/category/train/good</c>, <c>test/&lt;defect&gt;</c>,
    /// <c>ground_truth/&lt;defect&gt;/&lt;name&gt;_mask.png</c>.</summary>
    public static (List<AnomalySample> Train, List<AnomalySample> Test) MvtecLike(
        string root,
        string category,
        string layoutName
    )
    {
        RequireDirectory(root, $"{layoutName} root");
        var categoryDir = Path.Combine(root, category);
        if (!Directory.Exists(categoryDir))
        {
            var available = Directory
                .GetDirectories(root)
                .Select(Path.GetFileName)
                .OrderBy(n => n, StringComparer.Ordinal)
                .ToList();
            throw new DirectoryNotFoundException(
                $"{layoutName} category '{category}' not found: expected the folder '{categoryDir}'. Categories "
                    + $"found in '{root}': {(available.Count == 0 ? "none" : string.Join(", ", available))}."
            );
        }

        var trainDir = Path.Combine(categoryDir, "train", "good");
        RequireDirectory(trainDir, $"{layoutName} training folder (train/good)");
        var train = Images(trainDir).Select(p => new AnomalySample(p, SampleLabel.Normal, "good")).ToList();
        if (train.Count == 0)
        {
            throw new InvalidDataException(
                $"The training folder '{trainDir}' holds no images (expected {string.Join(", ", ImageExtensions)} "
                    + $"files)."
            );
        }

        var test = new List<AnomalySample>();
        var testDir = Path.Combine(categoryDir, "test");
        var missingMasks = new List<string>();
        if (Directory.Exists(testDir))
        {
            foreach (var defectDir in Directory.GetDirectories(testDir).OrderBy(d => d, StringComparer.Ordinal))
            {
                var defect = Path.GetFileName(defectDir);
                foreach (var image in Images(defectDir))
                {
                    if (defect == "good")
                    {
                        test.Add(new AnomalySample(image, SampleLabel.Normal, defect));
                        continue;
                    }

                    var mask = FindMask(Path.Combine(categoryDir, "ground_truth", defect), image);
                    if (mask is null)
                    {
                        missingMasks.Add(
                            Path.Combine("ground_truth", defect, Path.GetFileNameWithoutExtension(image) + "_mask.png")
                        );
                    }

                    test.Add(new AnomalySample(image, SampleLabel.Anomalous, defect, mask));
                }
            }
        }

        if (missingMasks.Count > 0)
        {
            throw new InvalidDataException(
                $"{missingMasks.Count} anomalous test image(s) in '{categoryDir}' have no mask; expected for "
                    + $"example: {string.Join(", ", missingMasks.Take(5))}."
            );
        }

        return (train, test);
    }

    /// <summary>VisA's original layout: <c>split_csv/1cls.csv</c> (object, split, label, image, mask) with paths
    /// relative to the root.</summary>
    public static (List<AnomalySample> Train, List<AnomalySample> Test) VisaOriginal(string root, string category)
    {
        var csv = Path.Combine(root, "split_csv", "1cls.csv");
        if (!File.Exists(csv))
        {
            throw new FileNotFoundException(
                $"VisA split file not found: expected '{csv}' (the original VisA layout), or use the converted "
                    + $"MVTec-like layout.",
                csv
            );
        }

        var lines = File.ReadAllLines(csv);
        if (lines.Length == 0)
        {
            throw new InvalidDataException($"'{csv}' is empty; expected a header 'object,split,label,image,mask'.");
        }

        var header = lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant()).ToList();
        int Column(string name) =>
            header.IndexOf(name) is var i and >= 0
                ? i
                : throw new InvalidDataException($"'{csv}' lacks the column '{name}'; its header is '{lines[0]}'.");
        int objectColumn = Column("object"),
            splitColumn = Column("split"),
            labelColumn = Column("label"),
            imageColumn = Column("image"),
            maskColumn = Column("mask");
        var train = new List<AnomalySample>();
        var test = new List<AnomalySample>();
        var categories = new SortedSet<string>(StringComparer.Ordinal);
        for (int n = 1; n < lines.Length; n++)
        {
            if (string.IsNullOrWhiteSpace(lines[n]))
            {
                continue;
            }

            var cells = lines[n].Split(',');
            if (cells.Length < header.Count)
            {
                throw new InvalidDataException(
                    $"'{csv}' line {n + 1} has {cells.Length} cells; the header has {header.Count}."
                );
            }

            categories.Add(cells[objectColumn]);
            if (cells[objectColumn] != category)
            {
                continue;
            }

            var image = Path.Combine(root, cells[imageColumn]);
            var anomalous = cells[labelColumn].Trim().Equals("anomaly", StringComparison.OrdinalIgnoreCase);
            var mask =
                anomalous && !string.IsNullOrWhiteSpace(cells[maskColumn])
                    ? Path.Combine(root, cells[maskColumn])
                    : null;
            var sample = new AnomalySample(
                image,
                anomalous ? SampleLabel.Anomalous : SampleLabel.Normal,
                anomalous ? "bad" : "good",
                mask
            );
            (cells[splitColumn].Trim().Equals("train", StringComparison.OrdinalIgnoreCase) ? train : test).Add(sample);
        }

        if (train.Count + test.Count == 0)
        {
            throw new InvalidDataException(
                $"VisA category '{category}' has no rows in '{csv}'. Categories listed there: "
                    + $"{string.Join(", ", categories)}."
            );
        }

        var missing = train
            .Concat(test)
            .SelectMany(s => s.MaskPath is null ? new[] { s.ImagePath } : new[] { s.ImagePath, s.MaskPath })
            .Where(p => !File.Exists(p))
            .ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(
                $"{missing.Count} file(s) listed in '{csv}' for '{category}' do not exist, e.g. "
                    + $"{string.Join(", ", missing.Take(5))}."
            );
        }

        return (train, test);
    }

    /// <summary>Folder layout: a normal folder, an abnormal folder, optional mask folder and normal test
    /// folder.</summary>
    public static (List<AnomalySample> Train, List<AnomalySample> Test) Folder(
        string normalDir,
        string? abnormalDir,
        string? maskDir,
        string? normalTestDir
    )
    {
        RequireDirectory(normalDir, "normal_dir");
        var train = Images(normalDir).Select(p => new AnomalySample(p, SampleLabel.Normal, "good")).ToList();
        if (train.Count == 0)
        {
            throw new InvalidDataException(
                $"normal_dir '{normalDir}' holds no images (expected {string.Join(", ", ImageExtensions)} files)."
            );
        }

        var test = new List<AnomalySample>();
        if (normalTestDir is not null)
        {
            RequireDirectory(normalTestDir, "normal_test_dir");
            test.AddRange(Images(normalTestDir).Select(p => new AnomalySample(p, SampleLabel.Normal, "good")));
        }

        if (abnormalDir is not null)
        {
            RequireDirectory(abnormalDir, "abnormal_dir");
            if (maskDir is not null)
            {
                RequireDirectory(maskDir, "mask_dir");
            }

            var missing = new List<string>();
            foreach (var image in Images(abnormalDir))
            {
                string? mask = null;
                if (maskDir is not null)
                {
                    mask = FindMask(maskDir, image);
                    if (mask is null)
                    {
                        missing.Add(Path.GetFileName(image));
                    }
                }

                test.Add(
                    new AnomalySample(
                        image,
                        SampleLabel.Anomalous,
                        Path.GetFileName(Path.TrimEndingDirectorySeparator(abnormalDir)),
                        mask
                    )
                );
            }

            if (missing.Count > 0)
            {
                throw new InvalidDataException(
                    $"mask_dir '{maskDir}' has no mask for {missing.Count} abnormal image(s), e.g. "
                        + $"{string.Join(", ", missing.Take(5))}; expected a file with the same name (or name_mask) in "
                        + $"it."
                );
            }
        }

        return (train, test);
    }

    /// <summary>
    /// quadra's layout: <c>train/good</c>, <c>test/good</c>, <c>test/&lt;defect&gt;</c>, <c>test/unknown</c> (no
    /// label), masks in <c>ground_truth/&lt;defect&gt;</c> when present, otherwise none (full masks for anomalous
    /// images).
    /// </summary>
    public static (List<AnomalySample> Train, List<AnomalySample> Test) Quadra(string root)
    {
        var trainDir = Path.Combine(root, "train", "good");
        RequireDirectory(trainDir, "quadra training folder (train/good)");
        var train = Images(trainDir).Select(p => new AnomalySample(p, SampleLabel.Normal, "good")).ToList();
        var test = new List<AnomalySample>();
        var testDir = Path.Combine(root, "test");
        if (Directory.Exists(testDir))
        {
            foreach (var defectDir in Directory.GetDirectories(testDir).OrderBy(d => d, StringComparer.Ordinal))
            {
                var defect = Path.GetFileName(defectDir);
                foreach (var image in Images(defectDir))
                {
                    var label = defect switch
                    {
                        "good" => SampleLabel.Normal,
                        "unknown" => SampleLabel.Unknown,
                        _ => SampleLabel.Anomalous,
                    };
                    var mask =
                        label == SampleLabel.Anomalous
                            ? FindMask(Path.Combine(root, "ground_truth", defect), image)
                            : null;
                    test.Add(new AnomalySample(image, label, defect, mask));
                }
            }
        }

        return (train, test);
    }

    public static IEnumerable<string> Images(string directory) =>
        Directory
            .EnumerateFiles(directory)
            .Where(f =>
                ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())
                && !Path.GetFileName(f).StartsWith('.')
            )
            .OrderBy(f => f, StringComparer.Ordinal);

    private static string? FindMask(string directory, string image)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var stem = Path.GetFileNameWithoutExtension(image);
        foreach (var name in new[] { stem + "_mask", stem })
        {
            foreach (var extension in ImageExtensions)
            {
                var candidate = Path.Combine(directory, name + extension);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static void RequireDirectory(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"The {what} path is empty.");
        }

        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"The {what} '{path}' does not exist.");
        }
    }
}
