using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Configuration;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble;

/// <summary>
/// Composes a tiled ensemble step by step; every <c>With…</c> returns the builder, <see cref="Build"/> validates and
/// returns an immutable <see cref="Ensemble"/>.
/// </summary>
/// <example>
/// <code>
/// var ensemble = TiledEnsembleBuilder.Create()
///     .WithImageSize(512, 512)
///     .WithTiling(tileSize: 256, stride: 128)
///     .WithModel(ModelKind.Padim, m => m.Backbone = "resnet18")
///     .WithSeed(42)
///     .Build();
/// </code>
/// </example>
public sealed class TiledEnsembleBuilder
{
    private readonly TiledEnsembleOptions _options = new();
    private Func<ModelContext, IAnomalyModel>? _factory;
    private ILoggerFactory _loggers = NullLoggerFactory.Instance;

    private TiledEnsembleBuilder()
    {
    }

    /// <summary>Starts a builder with the seed configuration's defaults.</summary>
    public static TiledEnsembleBuilder Create() => new();

    /// <summary>Starts from bound options (a copy is taken).</summary>
    public TiledEnsembleBuilder WithOptions(TiledEnsembleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var property in typeof(TiledEnsembleOptions).GetProperties().Where(p => p.CanWrite))
        {
            property.SetValue(_options, property.GetValue(options));
        }

        _options.ModelSettings = (options.ModelSettings ?? new ModelSettings()).Clone();
        _options.SeamSmoothing = new SeamSmoothingSettings { Apply = options.SeamSmoothing?.Apply ?? true, Sigma = options.SeamSmoothing?.Sigma ?? 2, Width = options.SeamSmoothing?.Width ?? 0.1 };
        return this;
    }

    /// <summary>The size images are resized to before tiling.</summary>
    public TiledEnsembleBuilder WithImageSize(int height, int width)
    {
        _options.ImageHeight = height;
        _options.ImageWidth = width;
        return this;
    }

    /// <summary>A square image size.</summary>
    public TiledEnsembleBuilder WithImageSize(int side) => WithImageSize(side, side);

    /// <summary>Tile size and stride (an <see cref="int"/> or (height, width) each).</summary>
    public TiledEnsembleBuilder WithTiling(Size2D tileSize, Size2D stride)
    {
        _options.TileHeight = tileSize.Height;
        _options.TileWidth = tileSize.Width;
        _options.StrideHeight = stride.Height;
        _options.StrideWidth = stride.Width;
        return this;
    }

    /// <summary>A built-in model, optionally configured.</summary>
    public TiledEnsembleBuilder WithModel(ModelKind model, Action<ModelSettings>? configure = null)
    {
        _options.Model = model;
        configure?.Invoke(_options.ModelSettings);
        _factory = null;
        return this;
    }

    /// <summary>A custom model per position; <paramref name="kind"/> names it in the manifest.</summary>
    public TiledEnsembleBuilder WithModel(Func<ModelContext, IAnomalyModel> factory, ModelKind kind = ModelKind.Padim)
    {
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
        _options.Model = kind;
        return this;
    }

    /// <summary>Pretrained backbone weights from a safetensors file you provide.</summary>
    public TiledEnsembleBuilder WithBackboneWeights(string safetensorsPath)
    {
        _options.ModelSettings.BackboneWeights = safetensorsPath;
        return this;
    }

    /// <summary>
    /// Whether the backbone starts from the ImageNet weights of the package <c>TiledEnsemble.Pretrained</c> (the
    /// default; <see cref="Build"/> fails naming the package where it is missing) or from seeded random weights.
    /// </summary>
    public TiledEnsembleBuilder WithPretrainedBackbone(bool pretrained = true)
    {
        _options.ModelSettings.PreTrained = pretrained;
        return this;
    }

    /// <summary>Where normalization happens, and how.</summary>
    public TiledEnsembleBuilder WithNormalization(Stage stage, NormalizationMethod method = NormalizationMethod.MinMax)
    {
        _options.NormalizationStage = stage;
        _options.NormalizationMethod = method;
        return this;
    }

    /// <summary>How thresholds are chosen and where they apply.</summary>
    public TiledEnsembleBuilder WithThresholding(ThresholdMethod method, Stage stage = Stage.Image)
    {
        _options.ThresholdMethod = method;
        _options.ThresholdingStage = stage;
        return this;
    }

    /// <summary>Manual thresholds (raw values, or fractions of the validation range when <paramref name="normalized"/>).</summary>
    public TiledEnsembleBuilder WithManualThresholds(double image, double pixel, bool normalized = false)
    {
        _options.ThresholdMethod = ThresholdMethod.Manual;
        _options.ManualImageThreshold = image;
        _options.ManualPixelThreshold = pixel;
        _options.ManualThresholdIsNormalized = normalized;
        return this;
    }

    /// <summary>Seam smoothing with a Gaussian of <paramref name="sigma"/> over bands of <paramref name="width"/> × tile.</summary>
    public TiledEnsembleBuilder WithSeamSmoothing(double sigma = 2, double width = 0.1)
    {
        _options.SeamSmoothing = new SeamSmoothingSettings { Apply = true, Sigma = sigma, Width = width };
        return this;
    }

    /// <summary>
    /// How an image's score is made from its positions' predictions (<see cref="ImageScoreAggregation.MeanOfPositions"/>
    /// is anomalib's); <paramref name="topK"/> is the number of pixels, at the image size, that
    /// <see cref="ImageScoreAggregation.TopKMeanOfMap"/> averages.
    /// </summary>
    public TiledEnsembleBuilder WithImageScore(ImageScoreAggregation aggregation, int topK = TiledEnsembleOptions.DefaultImageScoreTopK)
    {
        _options.ImageScore = aggregation;
        _options.ImageScoreTopK = topK;
        return this;
    }

    /// <summary>No seam smoothing.</summary>
    public TiledEnsembleBuilder WithoutSeamSmoothing()
    {
        _options.SeamSmoothing = new SeamSmoothingSettings { Apply = false };
        return this;
    }

    /// <summary>"cpu", "cuda" or "cuda:N": one device for training and prediction (replaces <see cref="WithDevices"/>).</summary>
    public TiledEnsembleBuilder WithDevice(string device)
    {
        _options.Device = device;
        _options.Devices = new List<string>();
        return this;
    }

    /// <summary>
    /// Trains positions concurrently on several devices of one kind ("cuda:0", "cuda:1"; or "cpu" repeated), one model
    /// resident on each; prediction runs on the first. The trained run equals one trained on a single device of the kind.
    /// </summary>
    public TiledEnsembleBuilder WithDevices(params string[] devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        _options.Devices = devices.ToList();
        _options.Device = devices.Length > 0 ? devices[0] : "cpu";
        return this;
    }

    /// <summary>The seed of everything random.</summary>
    public TiledEnsembleBuilder WithSeed(int seed)
    {
        _options.Seed = seed;
        return this;
    }

    /// <summary>Batch sizes for training and for validation/test/prediction.</summary>
    public TiledEnsembleBuilder WithBatchSizes(int train, int eval)
    {
        _options.TrainBatchSize = train;
        _options.EvalBatchSize = eval;
        return this;
    }

    /// <summary>Positions trained at once (default 1: only one tile model in memory).</summary>
    public TiledEnsembleBuilder WithParallelism(int maxDegreeOfParallelism)
    {
        _options.MaxDegreeOfParallelism = maxDegreeOfParallelism;
        return this;
    }

    /// <summary>
    /// Whether prediction keeps all position models in memory (default) or loads them per batch; evaluation holds one at
    /// a time unless prediction already holds them all.
    /// </summary>
    public TiledEnsembleBuilder WithResidentModels(bool resident)
    {
        _options.KeepModelsResident = resident;
        return this;
    }

    /// <summary>Logging.</summary>
    public TiledEnsembleBuilder WithLogging(ILoggerFactory loggerFactory)
    {
        _loggers = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Validates the settings and returns an untrained ensemble.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Invalid settings; every failure is listed.</exception>
    /// <exception cref="InvalidOperationException">No TorchSharp runtime package (libtorch) is referenced; the message names the three to choose from.</exception>
    public Ensemble Build()
    {
        Hosting.NativeRuntime.EnsureLoaded();
        return new(ToSettings(_options), _factory, _loggers);
    }

    /// <summary>Validates options and freezes them into settings.</summary>
    internal static EnsembleSettings ToSettings(TiledEnsembleOptions options)
    {
        var result = new TiledEnsembleOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(nameof(TiledEnsembleOptions), typeof(TiledEnsembleOptions), result.Failures);
        }

        var model = options.ModelSettings ?? new ModelSettings();
        return new EnsembleSettings
        {
            ImageSize = new Size2D(options.ImageHeight, options.ImageWidth),
            TileSize = new Size2D(options.TileHeight, options.TileWidth),
            Stride = new Size2D(options.StrideHeight, options.StrideWidth),
            Model = options.Model,
            Backbone = model.Backbone ?? ModelFactory.DefaultBackbone(options.Model),
            BackboneWeights = model.BackboneWeights,
            PreTrained = model.PreTrained ?? true,
            Layers = (model.Layers is { Count: > 0 } layers ? layers.ToArray() : ModelFactory.DefaultLayers(options.Model)),
            NFeatures = model.NFeatures,
            CoresetSamplingRatio = model.CoresetSamplingRatio ?? 0.1,
            NumNeighbors = model.NumNeighbors ?? 9,
            NormalizationStage = options.NormalizationStage,
            NormalizationMethod = options.NormalizationMethod,
            ThresholdMethod = options.ThresholdMethod,
            ThresholdingStage = options.ThresholdingStage,
            ManualThreshold = options.ThresholdMethod == ThresholdMethod.Manual ? new ManualThreshold(options.ManualImageThreshold!.Value, options.ManualPixelThreshold!.Value, options.ManualThresholdIsNormalized) : null,
            ImageScore = options.ImageScore,
            ImageScoreTopK = options.ImageScoreTopK,
            SeamSmoothing = options.SeamSmoothing?.Apply ?? true,
            SeamSigma = options.SeamSmoothing?.Sigma ?? 2,
            SeamWidth = options.SeamSmoothing?.Width ?? 0.1,
            Device = options.Devices is { Count: > 0 } devices ? devices[0] : options.Device,
            TrainingDevices = options.Devices is { Count: > 1 } several ? several.ToArray() : Array.Empty<string>(),
            Seed = options.Seed,
            TrainBatchSize = options.TrainBatchSize,
            EvalBatchSize = options.EvalBatchSize,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
            KeepModelsResident = options.KeepModelsResident,
            MaxInputSide = options.MaxInputSide,
            Training = new TiledEnsemble.Models.Training.TrainingOptions
            {
                MaxEpochs = model.MaxEpochs ?? 500,
                Patience = model.EarlyStoppingPatience is 0 ? null : model.EarlyStoppingPatience ?? 42,
                Monitor = model.EarlyStoppingMonitor ?? TiledEnsemble.Models.Training.TrainingMetric.PixelAuroc,
                ValidationInterval = model.ValidationInterval ?? 1,
                LearningRate = model.LearningRate,
                Seed = options.Seed,
            },
            FlowSteps = model.FlowSteps ?? 8,
        };
    }
}
