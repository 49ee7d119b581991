using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Data.Synthetic;

namespace TiledEnsemble.Data.Datasets;

/// <summary>Forms train, validation and test sets from scanned samples as <see cref="SplitOptions"/> says;
/// seeded.</summary>
internal static class DatasetSplitter
{
    public static (List<AnomalySample> Train, List<AnomalySample> Validation, List<AnomalySample> Test) Split(
        List<AnomalySample> train,
        List<AnomalySample> test,
        SplitOptions options
    )
    {
        options.Validate();
        var random = new Random(options.Seed);
        train = Shuffle(train, random);
        switch (options.TestSplitMode)
        {
            case TestSplitMode.FromDir:
                if (!test.Any(s => s.Label == SampleLabel.Normal) && options.TestSplitRatio > 0)
                {
                    var moved = TakeFraction(ref train, options.TestSplitRatio);
                    test = test.Concat(moved).ToList();
                }

                break;
            case TestSplitMode.Synthetic:
                test = WithSyntheticAnomalies(TakeFraction(ref train, options.TestSplitRatio), options, random, "test");
                break;
            default:
                test = new List<AnomalySample>();
                break;
        }

        var validation = new List<AnomalySample>();
        switch (options.ValSplitMode)
        {
            case ValSplitMode.SameAsTest:
                validation = test;
                break;
            case ValSplitMode.FromTest:
                // Stratified: the same fraction of each label, so both sets keep normal and anomalous samples.
                var keep = new List<AnomalySample>();
                foreach (var group in test.GroupBy(s => s.Label).OrderBy(g => g.Key))
                {
                    var items = Shuffle(group.ToList(), random);
                    int count = (int)Math.Round(items.Count * options.ValSplitRatio);
                    validation.AddRange(items.Take(count));
                    keep.AddRange(items.Skip(count));
                }

                test = keep;
                break;
            case ValSplitMode.FromTrain:
                validation = TakeFraction(ref train, options.ValSplitRatio);
                if (validation.Count == 0)
                {
                    throw new InvalidOperationException(
                        $"ValSplitMode FromTrain holds out ValSplitRatio {options.ValSplitRatio} of {train.Count} "
                            + "training images, which is none; raise the ratio or add training images."
                    );
                }

                break;
            case ValSplitMode.Synthetic:
                validation = WithSyntheticAnomalies(
                    TakeFraction(ref train, options.ValSplitRatio),
                    options,
                    random,
                    "validation"
                );
                break;
        }

        if (train.Count == 0)
        {
            throw new InvalidOperationException(
                "The splits left no training image; lower TestSplitRatio or ValSplitRatio."
            );
        }

        return (train, validation, test);
    }

    private static List<AnomalySample> WithSyntheticAnomalies(
        List<AnomalySample> normals,
        SplitOptions options,
        Random random,
        string purpose
    )
    {
        if (normals.Count < 2)
        {
            throw new InvalidOperationException(
                $"A synthetic {purpose} set needs at least 2 normal images; the split ratio gives {normals.Count}."
            );
        }

        var kinds = Enum.GetValues<DefectKind>();
        var result = new List<AnomalySample>();
        for (int i = 0; i < normals.Count; i++)
        {
            if (i % 2 == 0)
            {
                result.Add(normals[i]);
                continue;
            }

            var kind = kinds[random.Next(kinds.Length)];
            result.Add(
                normals[i] with
                {
                    Label = SampleLabel.Anomalous,
                    DefectType = "synthetic_" + DefectDatasetGenerator.FolderName(kind),
                    Synthetic = new SyntheticDefect(kind, options.SyntheticDefectArea, random.Next()),
                }
            );
        }

        return result;
    }

    private static List<AnomalySample> TakeFraction(ref List<AnomalySample> source, double ratio)
    {
        int count = (int)Math.Round(source.Count * ratio);
        var taken = source.Take(count).ToList();
        source = source.Skip(count).ToList();
        return taken;
    }

    private static List<AnomalySample> Shuffle(List<AnomalySample> items, Random random)
    {
        var copy = items.ToList();
        for (int i = copy.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }

        return copy;
    }
}
