namespace TiledEnsemble.Data.Datasets;

/// <summary>The ground-truth label of a sample.</summary>
public enum SampleLabel
{
    /// <summary>Defect-free ("good").</summary>
    Normal = 0,

    /// <summary>Has a defect.</summary>
    Anomalous = 1,

    /// <summary>No label (quadra's <c>test/unknown</c>, or images to predict on).</summary>
    Unknown = -1,
}
