using System.Collections.Generic;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Configuration;

/// <summary>The validated, immutable settings of an ensemble; saved in the run manifest.</summary>
public sealed record EnsembleSettings
{
    /// <summary>Image size after resizing.</summary>
    public required Size2D ImageSize { get; init; }

    /// <summary>Tile size.</summary>
    public required Size2D TileSize { get; init; }

    /// <summary>Stride.</summary>
    public required Size2D Stride { get; init; }

    /// <summary>The per-tile model.</summary>
    public required ModelKind Model { get; init; }

    /// <summary>Backbone name.</summary>
    public required string Backbone { get; init; }

    /// <summary>A weights file given by the user; null: <see cref="PreTrained"/> decides.</summary>
    public string? BackboneWeights { get; init; }

    /// <summary>Without <see cref="BackboneWeights"/>: ImageNet weights of <c>TiledEnsemble.Pretrained</c> (true) or seeded random weights (false).</summary>
    public bool PreTrained { get; init; } = true;

    /// <summary>Feature layers.</summary>
    public required IReadOnlyList<string> Layers { get; init; }

    /// <summary>Padim channels (null: default).</summary>
    public int? NFeatures { get; init; }

    /// <summary>Patchcore coreset ratio.</summary>
    public double CoresetSamplingRatio { get; init; } = 0.1;

    /// <summary>Patchcore neighbours.</summary>
    public int NumNeighbors { get; init; } = 9;

    /// <summary>Normalization stage.</summary>
    public Stage NormalizationStage { get; init; } = Stage.Image;

    /// <summary>Normalization formula.</summary>
    public NormalizationMethod NormalizationMethod { get; init; } = NormalizationMethod.MinMax;

    /// <summary>Threshold method.</summary>
    public ThresholdMethod ThresholdMethod { get; init; } = ThresholdMethod.F1Adaptive;

    /// <summary>Thresholding stage.</summary>
    public Stage ThresholdingStage { get; init; } = Stage.Image;

    /// <summary>Manual thresholds, when <see cref="ThresholdMethod"/> is manual.</summary>
    public ManualThreshold? ManualThreshold { get; init; }

    /// <summary>Whether seams are smoothed.</summary>
    public bool SeamSmoothing { get; init; } = true;

    /// <summary>
    /// How image scores are made. The initializer is the meaning of runs that recorded none (anomalib's mean of positions);
    /// new runs record the option's value.
    /// </summary>
    public TiledEnsemble.Joining.ImageScoreAggregation ImageScore { get; init; } = TiledEnsemble.Joining.ImageScoreAggregation.MeanOfPositions;

    /// <summary>Pixels averaged by <see cref="TiledEnsemble.Joining.ImageScoreAggregation.TopKMeanOfMap"/>, at the image size.</summary>
    public int ImageScoreTopK { get; init; } = TiledEnsembleOptions.DefaultImageScoreTopK;

    /// <summary>Seam smoothing sigma.</summary>
    public double SeamSigma { get; init; } = 2;

    /// <summary>Seam smoothing band width (fraction of the tile).</summary>
    public double SeamWidth { get; init; } = 0.1;

    /// <summary>Device name: where prediction and evaluation run, and training unless <see cref="TrainingDevices"/> names several.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// Devices that train positions concurrently, one model resident on each (empty: <see cref="Device"/> alone). How this
    /// process trains, not what the run is: not saved in the manifest, so a run trained on two GPUs equals one trained on one.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> TrainingDevices { get; init; } = System.Array.Empty<string>();

    /// <summary>Seed.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Training batch size.</summary>
    public int TrainBatchSize { get; init; } = 32;

    /// <summary>Evaluation batch size.</summary>
    public int EvalBatchSize { get; init; } = 32;

    /// <summary>Positions trained at once.</summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;

    /// <summary>Whether models stay in memory for prediction.</summary>
    public bool KeepModelsResident { get; init; } = true;

    /// <summary>Largest accepted input side.</summary>
    public int MaxInputSide { get; init; } = 16384;

    /// <summary>The settings that decide what a trained position is; a resumed run must match them.</summary>
    /// <summary>Epochs, early stopping and learning rate of the gradient-trained models (unused by Padim and Patchcore).</summary>
    public TiledEnsemble.Models.Training.TrainingOptions Training { get; init; } = new();

    /// <summary>FastFlow: coupling blocks per flow.</summary>
    public int FlowSteps { get; init; } = 8;

    internal string TrainingIdentity() => string.Join("|", ImageSize, TileSize, Stride, Model, Backbone, BackboneWeights ?? (PreTrained ? "pretrained" : "seed"), string.Join(",", Layers), NFeatures?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default", CoresetSamplingRatio.ToString("R", System.Globalization.CultureInfo.InvariantCulture), NumNeighbors, Seed, NormalizationStage, ThresholdingStage, Training, FlowSteps);
}
