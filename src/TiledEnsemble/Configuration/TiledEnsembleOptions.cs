using System.Collections.Generic;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Configuration;

/// <summary>
/// Every setting of a tiled ensemble, as a plain class that binds from configuration
/// (<c>services.AddTiledEnsemble(configuration.GetSection("TiledEnsemble"))</c>). Validated by
/// <see cref="TiledEnsembleOptionsValidator"/>; <see cref="TiledEnsembleBuilder.Build"/> turns it into immutable
/// <see cref="EnsembleSettings"/>. Defaults are the seed configuration's (Padim, image 256, tiles 128, stride 128).
/// </summary>
public sealed class TiledEnsembleOptions
{
    /// <summary>Image height after resizing.</summary>
    public int ImageHeight { get; set; } = 256;

    /// <summary>Image width after resizing.</summary>
    public int ImageWidth { get; set; } = 256;

    /// <summary>Tile height.</summary>
    public int TileHeight { get; set; } = 128;

    /// <summary>Tile width.</summary>
    public int TileWidth { get; set; } = 128;

    /// <summary>Vertical stride between tiles.</summary>
    public int StrideHeight { get; set; } = 128;

    /// <summary>Horizontal stride between tiles.</summary>
    public int StrideWidth { get; set; } = 128;

    /// <summary>The per-tile model.</summary>
    public ModelKind Model { get; set; } = ModelKind.Padim;

    /// <summary>Model settings.</summary>
    public ModelSettings ModelSettings { get; set; } = new();

    /// <summary>Where normalization happens (default: image).</summary>
    public Stage NormalizationStage { get; set; } = Stage.Image;

    /// <summary>Normalization formula (default: anomalib's min-max).</summary>
    public NormalizationMethod NormalizationMethod { get; set; } = NormalizationMethod.MinMax;

    /// <summary>How thresholds are chosen (default: F1-adaptive).</summary>
    public ThresholdMethod ThresholdMethod { get; set; } = ThresholdMethod.F1Adaptive;

    /// <summary>Where thresholding happens (default: image).</summary>
    public Stage ThresholdingStage { get; set; } = Stage.Image;

    /// <summary>Manual image threshold (with <see cref="ThresholdMethod.Manual"/>).</summary>
    public double? ManualImageThreshold { get; set; }

    /// <summary>Manual pixel threshold (with <see cref="ThresholdMethod.Manual"/>).</summary>
    public double? ManualPixelThreshold { get; set; }

    /// <summary>Whether manual thresholds are fractions of the validation range rather than raw values.</summary>
    public bool ManualThresholdIsNormalized { get; set; }

    /// <summary>With <see cref="ThresholdMethod.FalseRejectRate"/>: the share of good validation images the thresholds
    /// may reject, in [0, 1) (default 0.01).</summary>
    public double FalseRejectRate { get; set; } = FalseRejectThreshold.DefaultRate;

    /// <summary>
    /// How each tile position's maps are standardized before joining, from the good validation tiles of that position
    /// (default: none, anomalib's way). Needs thresholds at the image stage and no normalization at the tile stage;
    /// pair with held-out good images (<c>ValSplitMode.FromTrain</c>) and docs/calibration.md.
    /// </summary>
    public PositionCalibration Calibration { get; set; } = PositionCalibration.None;

    /// <summary>The default of <see cref="ImageScoreTopK"/>.</summary>
    public const int DefaultImageScoreTopK = 100;

    /// <summary>
    /// How an image's score is made from its positions: see <see cref="TiledEnsemble.Joining.ImageScoreAggregation"/>.
    /// The default, <c>MeanOfPositions</c> (anomalib's), had the best mean image AUROC of the four in the quality
    /// benchmark (docs/metrics.md).
    /// </summary>
    public TiledEnsemble.Joining.ImageScoreAggregation ImageScore { get; set; } =
        TiledEnsemble.Joining.ImageScoreAggregation.MeanOfPositions;

    /// <summary>Pixels (at the image size) averaged by <c>TopKMeanOfMap</c>.</summary>
    public int ImageScoreTopK { get; set; } = DefaultImageScoreTopK;

    /// <summary>Seam smoothing.</summary>
    public SeamSmoothingSettings SeamSmoothing { get; set; } = new();

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Several devices of one kind (e.g. "cuda:0", "cuda:1") that train positions concurrently, one model resident on
    /// each; the first is also <see cref="Device"/>, where prediction runs. Empty: <see cref="Device"/> alone. "cpu"
    /// may be repeated (concurrent CPU workers, each with its own backbone copy).
    /// </summary>
    public IList<string> Devices { get; set; } = new List<string>();

    /// <summary>Seed of everything random (backbone initialisation, channel selection, coreset).</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Training batch size.</summary>
    public int TrainBatchSize { get; set; } = 32;

    /// <summary>Validation, test and prediction batch size.</summary>
    public int EvalBatchSize { get; set; } = 32;

    /// <summary>Tile positions trained at once (1: one after another, so only one tile model is in memory).</summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;

    /// <summary>
    /// Keep every position's model in memory for prediction once the first prediction has loaded them (default); false
    /// loads them one by one per batch. Evaluation never makes them resident: it uses them when prediction already
    /// holds them and otherwise loads one at a time per batch.
    /// </summary>
    public bool KeepModelsResident { get; set; } = true;

    /// <summary>Largest accepted input image side in pixels (guards against decompression bombs and
    /// mistakes).</summary>
    public int MaxInputSide { get; set; } = 16384;

    /// <summary>Most pixels (width × height) of an input image file, checked from its header before decoding (default
    /// 8192²: decoding and predicting cost about 40 bytes a pixel).</summary>
    public long MaxInputPixels { get; set; } = Data.Imaging.ImageIO.DefaultMaxPixels;
}
