using System;

namespace TiledEnsemble.Data.Datasets;

/// <summary>How the test set is formed (anomalib's <c>test_split_mode</c>).</summary>
public enum TestSplitMode
{
    /// <summary>From the dataset's test folders; if they hold no normal image,
    /// <see cref="SplitOptions.TestSplitRatio"/> of the training images move there.</summary>
    FromDir,

    /// <summary>From <see cref="SplitOptions.TestSplitRatio"/> of the training images, half of them with painted
    /// defects.</summary>
    Synthetic,

    /// <summary>No test set.</summary>
    None,
}

/// <summary>How the validation set is formed (anomalib's <c>val_split_mode</c>).</summary>
public enum ValSplitMode
{
    /// <summary>The test set itself (anomalib's default for the tiled ensemble; makes thresholds optimistic).</summary>
    SameAsTest,

    /// <summary><see cref="SplitOptions.ValSplitRatio"/> of the test set, stratified by label, moved out of
    /// it.</summary>
    FromTest,

    /// <summary><see cref="SplitOptions.ValSplitRatio"/> of the training images, half of them with painted
    /// defects.</summary>
    Synthetic,

    /// <summary>No validation set.</summary>
    None,

    /// <summary><see cref="SplitOptions.ValSplitRatio"/> of the good training images, held out: no model is fitted on
    /// them, and normalization statistics and thresholds come from good images alone (pair with
    /// <c>ThresholdMethod.FalseRejectRate</c>; F1-adaptive thresholds need defective images).</summary>
    FromTrain,
}

/// <summary>Split settings; seeded and reproducible.</summary>
public sealed record SplitOptions
{
    /// <summary>Test split mode.</summary>
    public TestSplitMode TestSplitMode { get; init; } = TestSplitMode.FromDir;

    /// <summary>Fraction of training images used for testing when needed (see <see cref="TestSplitMode"/>).</summary>
    public double TestSplitRatio { get; init; } = 0.2;

    /// <summary>Validation split mode.</summary>
    public ValSplitMode ValSplitMode { get; init; } = ValSplitMode.SameAsTest;

    /// <summary>Fraction used for validation (see <see cref="ValSplitMode"/>).</summary>
    public double ValSplitRatio { get; init; } = 0.5;

    /// <summary>Defect size for synthetic anomalies, as a fraction of the image area.</summary>
    public double SyntheticDefectArea { get; init; } = 0.01;

    /// <summary>Seed for shuffles and synthetic defects.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws when a ratio is outside [0, 1] or a mode is unknown.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(TestSplitMode) || !Enum.IsDefined(ValSplitMode))
        {
            throw new ArgumentException($"Unknown split mode: test {TestSplitMode}, val {ValSplitMode}.");
        }

        foreach (
            var (name, value) in new[]
            {
                (nameof(TestSplitRatio), TestSplitRatio),
                (nameof(ValSplitRatio), ValSplitRatio),
            }
        )
        {
            if (!(value >= 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1].");
            }
        }

        if (ValSplitMode is ValSplitMode.SameAsTest or ValSplitMode.FromTest && TestSplitMode == TestSplitMode.None)
        {
            throw new ArgumentException(
                $"ValSplitMode {ValSplitMode} needs a test set, but TestSplitMode is None.",
                nameof(ValSplitMode)
            );
        }
    }
}
