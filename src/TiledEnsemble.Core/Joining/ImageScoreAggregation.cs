namespace TiledEnsemble.Joining;

/// <summary>How an image's anomaly score is made from its tile positions' predictions.</summary>
public enum ImageScoreAggregation
{
    /// <summary>The mean of the positions' scores: anomalib's joiner. A defect seen by one of nine positions weighs a
    /// ninth.</summary>
    MeanOfPositions,

    /// <summary>The largest of the positions' scores.</summary>
    MaxOfPositions,

    /// <summary>The largest value of the joined, seam-smoothed anomaly map.</summary>
    MaxOfMap,

    /// <summary>The mean of the k largest values of the joined, seam-smoothed anomaly map (k in pixels at the image
    /// size).</summary>
    TopKMeanOfMap,
}
