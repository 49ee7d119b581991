using System;
using System.Collections.Generic;
using System.Globalization;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.Patchcore;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Configuration;

/// <summary>
/// The validated, immutable settings of an ensemble; saved in the run manifest. Defaults are not written here: they
/// are those of <see cref="TiledEnsembleOptions"/> and of each model's options record, except where a setting added
/// later must keep the meaning of runs that recorded none (<see cref="ImageScore"/>).
/// </summary>
public sealed record EnsembleSettings
{
    private static readonly PatchcoreOptions PatchcoreDefaults = new();
    private static readonly TiledEnsembleOptions Defaults = new();

    /// <summary>Image size after resizing.</summary>
    public required Size2D ImageSize { get; init; }

    /// <summary>Tile size.</summary>
    public required Size2D TileSize { get; init; }

    /// <summary>Stride.</summary>
    public required Size2D Stride { get; init; }

    /// <summary>The built-in per-tile model; null for a model of the caller's (its name is the run's model
    /// stage).</summary>
    public required ModelKind? Model { get; init; }

    /// <summary>Backbone name.</summary>
    public required string Backbone { get; init; }

    /// <summary>A weights file given by the user; null: <see cref="PreTrained"/> decides.</summary>
    public string? BackboneWeights { get; init; }

    /// <summary>Without <see cref="BackboneWeights"/>: ImageNet weights of <c>TiledEnsemble.Pretrained</c> (true) or
    /// seeded random weights (false).</summary>
    public bool PreTrained { get; init; } = true;

    /// <summary>Feature layers.</summary>
    public required IReadOnlyList<string> Layers { get; init; }

    /// <summary>Padim channels (null: default).</summary>
    public int? NFeatures { get; init; }

    /// <summary>Patchcore coreset ratio.</summary>
    public double CoresetSamplingRatio { get; init; } = PatchcoreDefaults.CoresetSamplingRatio;

    /// <summary>Patchcore neighbours.</summary>
    public int NumNeighbors { get; init; } = PatchcoreDefaults.NumNeighbors;

    /// <summary>Patchcore: dimension of the coreset's random projection (null: the model's default).</summary>
    public int? ProjectionDimension { get; init; }

    /// <summary>Patchcore: memory-bank rows per distance block (null: the model's default).</summary>
    public int? DistanceChunkSize { get; init; }

    /// <summary>Padim, Patchcore, Reverse Distillation: sigma of the maps' Gaussian blur (null: the model's
    /// default).</summary>
    public double? BlurSigma { get; init; }

    /// <summary>FastFlow: hidden channels of a coupling subnet as a fraction of its input (null: the model's
    /// default).</summary>
    public double? HiddenRatio { get; init; }

    /// <summary>FastFlow: 3×3 subnets only (null: the model's default).</summary>
    public bool? Conv3x3Only { get; init; }

    /// <summary>Reverse Distillation: how the layers' maps are combined (null: the model's default).</summary>
    public AnomalyMapMode? MapMode { get; init; }

    /// <summary>Normalization stage.</summary>
    public Stage NormalizationStage { get; init; } = Defaults.NormalizationStage;

    /// <summary>Normalization formula.</summary>
    public NormalizationMethod NormalizationMethod { get; init; } = Defaults.NormalizationMethod;

    /// <summary>Threshold method.</summary>
    public ThresholdMethod ThresholdMethod { get; init; } = Defaults.ThresholdMethod;

    /// <summary>Thresholding stage.</summary>
    public Stage ThresholdingStage { get; init; } = Defaults.ThresholdingStage;

    /// <summary>Manual thresholds, when <see cref="ThresholdMethod"/> is manual.</summary>
    public ManualThreshold? ManualThreshold { get; init; }

    /// <summary>The share of good validation images that false-reject thresholds may reject.</summary>
    public double FalseRejectRate { get; init; } = Defaults.FalseRejectRate;

    /// <summary>How each position's maps are standardized before joining.</summary>
    public PositionCalibration Calibration { get; init; } = Defaults.Calibration;

    /// <summary>Whether seams are smoothed.</summary>
    public bool SeamSmoothing { get; init; } = Defaults.SeamSmoothing.Apply;

    /// <summary>
    /// How image scores are made. The initializer is the meaning of runs that recorded none (anomalib's mean of
    /// positions); new runs record the option's value.
    /// </summary>
    public ImageScoreAggregation ImageScore { get; init; } = ImageScoreAggregation.MeanOfPositions;

    /// <summary>Pixels averaged by <see cref="ImageScoreAggregation.TopKMeanOfMap"/>, at the image size.</summary>
    public int ImageScoreTopK { get; init; } = TiledEnsembleOptions.DefaultImageScoreTopK;

    /// <summary>Seam smoothing sigma.</summary>
    public double SeamSigma { get; init; } = Defaults.SeamSmoothing.Sigma;

    /// <summary>Seam smoothing band width (fraction of the tile).</summary>
    public double SeamWidth { get; init; } = Defaults.SeamSmoothing.Width;

    /// <summary>Device name: where prediction and evaluation run, and training unless <see cref="TrainingDevices"/>
    /// names several.</summary>
    public string Device { get; init; } = Defaults.Device;

    /// <summary>
    /// Devices that train positions concurrently, one model resident on each (empty: <see cref="Device"/> alone). How
    /// this process trains, not what the run is: not saved in the manifest, so a run trained on two GPUs equals one
    /// trained on one.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> TrainingDevices { get; init; } = System.Array.Empty<string>();

    /// <summary>Seed.</summary>
    public int Seed { get; init; } = Defaults.Seed;

    /// <summary>Training batch size.</summary>
    public int TrainBatchSize { get; init; } = Defaults.TrainBatchSize;

    /// <summary>Evaluation batch size.</summary>
    public int EvalBatchSize { get; init; } = Defaults.EvalBatchSize;

    /// <summary>Positions trained at once.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Defaults.MaxDegreeOfParallelism;

    /// <summary>Whether models stay in memory for prediction.</summary>
    public bool KeepModelsResident { get; init; } = Defaults.KeepModelsResident;

    /// <summary>Largest accepted input side.</summary>
    public int MaxInputSide { get; init; } = Defaults.MaxInputSide;

    /// <summary>Most pixels of an input image file.</summary>
    public long MaxInputPixels { get; init; } = Defaults.MaxInputPixels;

    /// <summary>Epochs, early stopping and learning rate of the gradient-trained models (unused by Padim and
    /// Patchcore).</summary>
    public TiledEnsemble.Models.Training.TrainingOptions Training { get; init; } = new();

    /// <summary>FastFlow: coupling blocks per flow.</summary>
    public int FlowSteps { get; init; } = FastflowOptions.DefaultFlowSteps;

    /// <summary>
    /// The settings that decide what a trained position is; a resumed run must match them. Settings added after the
    /// first format are appended only when set, so that runs written before them keep their identity.
    /// </summary>
    internal string TrainingIdentity()
    {
        var culture = CultureInfo.InvariantCulture;
        var parts = new List<object>
        {
            ImageSize,
            TileSize,
            Stride,
            Model?.ToString() ?? "custom",
            Backbone,
            BackboneWeights ?? (PreTrained ? "pretrained" : "seed"),
            string.Join(",", Layers),
            NFeatures?.ToString(culture) ?? "default",
            CoresetSamplingRatio.ToString("R", culture),
            NumNeighbors,
            Seed,
            NormalizationStage,
            ThresholdingStage,
            Training,
            FlowSteps,
        };
        void Optional(string name, object? value)
        {
            if (value is not null)
            {
                parts.Add($"{name}={Convert.ToString(value, culture)}");
            }
        }

        Optional("projection", ProjectionDimension);
        Optional("chunk", DistanceChunkSize);
        Optional("blur", BlurSigma?.ToString("R", culture));
        Optional("hidden", HiddenRatio?.ToString("R", culture));
        Optional("conv3x3", Conv3x3Only);
        Optional("map_mode", MapMode);
        Optional("calibration", Calibration == PositionCalibration.None ? null : Calibration);
        return string.Join("|", parts);
    }
}
