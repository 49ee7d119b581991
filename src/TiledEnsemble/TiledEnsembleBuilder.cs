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
/// Composes a tiled ensemble step by step, in the manner of Polly's pipeline builder: every <c>With…</c> returns the
/// builder, <see cref="Build"/> validates the settings, makes the stages and returns an <see cref="Ensemble"/> whose
/// <see cref="EnsembleDefinition"/> is immutable. Each stage (tiler, joiner, seam smoother, post-processor, model,
/// trainer) is the library's default unless one of one's own is given, as an instance or as a factory of the validated
/// settings; a custom stage is used in fitting, resuming, shards, evaluation and prediction alike.
/// </summary>
/// <example>
/// <code>
/// var ensemble = TiledEnsembleBuilder.Create()
///     .WithImageSize(512, 512)
///     .WithTiling(tileSize: 256, stride: 128)
///     .WithModel(ModelKind.Padim, m => m.Backbone = "resnet18")
///     .WithJoiner(new MyMaxJoiner())
///     .WithSeed(42)
///     .Build();
/// </code>
/// </example>
public sealed partial class TiledEnsembleBuilder
{
    private readonly TiledEnsembleOptions _options = new();
    private ModelDefinition? _model;
    private Func<ModelContext, IAnomalyModel, IAnomalyModel>? _decorate;
    private Func<EnsembleSettings, ITiler>? _tiler;
    private Func<EnsembleSettings, IJoiner>? _joiner;
    private Func<EnsembleSettings, ISeamSmoother>? _seamSmoother;
    private Func<EnsembleSettings, IPostProcessor>? _postProcessor;
    private Func<EnsembleDefinition, IEnsembleTrainer>? _trainer;
    private ILoggerFactory _loggers = NullLoggerFactory.Instance;

    private TiledEnsembleBuilder() { }

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
        _options.SeamSmoothing = (options.SeamSmoothing ?? new SeamSmoothingSettings()).Clone();
        _options.Devices = new List<string>(options.Devices ?? new List<string>());
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

    /// <summary>A tiler of one's own (its grid must have the image and tile sizes of the settings).</summary>
    public TiledEnsembleBuilder WithTiler(ITiler tiler)
    {
        ArgumentNullException.ThrowIfNull(tiler);
        return WithTiler(_ => tiler);
    }

    /// <summary>A tiler of one's own, made from the validated settings.</summary>
    public TiledEnsembleBuilder WithTiler(Func<EnsembleSettings, ITiler> factory)
    {
        _tiler = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }

    /// <summary>A built-in model, optionally configured.</summary>
    public TiledEnsembleBuilder WithModel(ModelKind model, Action<ModelSettings>? configure = null)
    {
        _options.Model = model;
        configure?.Invoke(_options.ModelSettings);
        _model = null;
        return this;
    }

    /// <summary>
    /// Settings of the model and its training (backbone, layers, epochs, early stopping, …), for the built-in model
    /// chosen or a model of one's own (whose factory gets them as <see cref="ModelContext.Settings"/>).
    /// </summary>
    public TiledEnsembleBuilder WithModelSettings(Action<ModelSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options.ModelSettings);
        return this;
    }

    /// <summary>
    /// A model of one's own per position, named <paramref name="name"/> (the name its models report as
    /// <see cref="IAnomalyModel.Name"/>); <paramref name="settings"/> are what a run records of it. Backbone settings
    /// (<see cref="ModelSettings.Backbone"/>, weights, layers) still choose the backbone the factory is given.
    /// </summary>
    public TiledEnsembleBuilder WithModel(
        string name,
        Func<ModelContext, IAnomalyModel> factory,
        IReadOnlyDictionary<string, string>? settings = null
    ) => WithModel(new ModelDefinition(name, factory, settings));

    /// <summary>A model stage of one's own.</summary>
    public TiledEnsembleBuilder WithModel(ModelDefinition model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        return this;
    }

    /// <summary>
    /// Passes every model, built-in or of one's own, through <paramref name="decorate"/> as it is made: for
    /// instrumentation (counting, timing, logging) that leaves results unchanged (see
    /// <see cref="ModelDefinition.Decorate"/>).
    /// </summary>
    public TiledEnsembleBuilder WithModelDecorator(Func<ModelContext, IAnomalyModel, IAnomalyModel> decorate)
    {
        _decorate = decorate ?? throw new ArgumentNullException(nameof(decorate));
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

    /// <summary>A joiner of one's own instead of the overlap mean.</summary>
    public TiledEnsembleBuilder WithJoiner(IJoiner joiner)
    {
        ArgumentNullException.ThrowIfNull(joiner);
        return WithJoiner(_ => joiner);
    }

    /// <summary>A joiner of one's own, made from the validated settings.</summary>
    public TiledEnsembleBuilder WithJoiner(Func<EnsembleSettings, IJoiner> factory)
    {
        _joiner = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }

    /// <summary>The default seam smoothing with a Gaussian of <paramref name="sigma"/> over bands of
    /// <paramref name="width"/> × tile.</summary>
    public TiledEnsembleBuilder WithSeamSmoothing(
        double sigma = SeamSmoother.DefaultSigma,
        double width = SeamSmoother.DefaultWidth
    )
    {
        _options.SeamSmoothing = new SeamSmoothingSettings
        {
            Apply = true,
            Sigma = sigma,
            Width = width,
        };
        _seamSmoother = null;
        return this;
    }

    /// <summary>A seam smoother of one's own.</summary>
    public TiledEnsembleBuilder WithSeamSmoother(ISeamSmoother seamSmoother)
    {
        ArgumentNullException.ThrowIfNull(seamSmoother);
        return WithSeamSmoother(_ => seamSmoother);
    }

    /// <summary>A seam smoother of one's own, made from the validated settings.</summary>
    public TiledEnsembleBuilder WithSeamSmoother(Func<EnsembleSettings, ISeamSmoother> factory)
    {
        _seamSmoother = factory ?? throw new ArgumentNullException(nameof(factory));
        _options.SeamSmoothing = new SeamSmoothingSettings { Apply = true };
        return this;
    }

    /// <summary>No seam smoothing.</summary>
    public TiledEnsembleBuilder WithoutSeamSmoothing()
    {
        _options.SeamSmoothing = new SeamSmoothingSettings { Apply = false };
        _seamSmoother = null;
        return this;
    }

    /// <summary>
    /// How an image's score is made from its positions' predictions
    /// (<see cref="ImageScoreAggregation.MeanOfPositions"/>
    /// is anomalib's); <paramref name="topK"/> is the number of pixels, at the image size, that
    /// <see cref="ImageScoreAggregation.TopKMeanOfMap"/> averages.
    /// </summary>
    public TiledEnsembleBuilder WithImageScore(
        ImageScoreAggregation aggregation,
        int topK = TiledEnsembleOptions.DefaultImageScoreTopK
    )
    {
        _options.ImageScore = aggregation;
        _options.ImageScoreTopK = topK;
        return this;
    }

    /// <summary>A trainer of one's own (typically wrapping <see cref="EnsembleTrainer"/>).</summary>
    public TiledEnsembleBuilder WithTrainer(IEnsembleTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        return WithTrainer(_ => trainer);
    }

    /// <summary>A trainer of one's own, made from the built definition.</summary>
    public TiledEnsembleBuilder WithTrainer(Func<EnsembleDefinition, IEnsembleTrainer> factory)
    {
        _trainer = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }

    /// <summary>"cpu", "cuda" or "cuda:N": one device for training and prediction (replaces
    /// <see cref="WithDevices"/>).</summary>
    public TiledEnsembleBuilder WithDevice(string device)
    {
        _options.Device = device;
        _options.Devices = new List<string>();
        return this;
    }

    /// <summary>
    /// Trains positions concurrently on several devices of one kind ("cuda:0", "cuda:1"; or "cpu" repeated), one model
    /// resident on each; prediction runs on the first. The trained run equals one trained on a single device of the
    /// kind.
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
    /// Whether prediction keeps all position models in memory (default) or loads them per batch; evaluation holds one
    /// at a time unless prediction already holds them all.
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

    /// <summary>Validates the settings, makes every stage and returns an untrained ensemble.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Invalid settings; every failure is
    /// listed.</exception>
    /// <exception cref="ArgumentException">A stage does not fit the settings (a tiler of other sizes, say); the message
    /// names it.</exception>
    /// <exception cref="InvalidOperationException">No TorchSharp runtime package (libtorch) is referenced; the message
    /// names the three to choose from.</exception>
    public Ensemble Build()
    {
        Hosting.NativeRuntime.EnsureLoaded();
        var settings = SettingsFreezer.Freeze(_options, customModel: _model is not null);
        var seamSmoother = !settings.SeamSmoothing
            ? null
            : _seamSmoother?.Invoke(settings) ?? EnsembleDefinition.DefaultSeamSmoother(settings);
        var model = _model ?? ModelDefinition.BuiltIn(settings);
        var definition = new EnsembleDefinition(
            settings,
            _tiler?.Invoke(settings) ?? EnsembleDefinition.DefaultTiler(settings),
            _joiner?.Invoke(settings) ?? new Joiner(),
            seamSmoother,
            _postProcessor?.Invoke(settings) ?? EnsembleDefinition.DefaultPostProcessor(settings, _loggers),
            _decorate is null ? model : model.Decorate(_decorate),
            _loggers
        );
        return new Ensemble(definition, _trainer?.Invoke(definition) ?? new EnsembleTrainer());
    }

    /// <summary>Validates options and freezes them into settings.</summary>
    internal static EnsembleSettings ToSettings(TiledEnsembleOptions options) => SettingsFreezer.Freeze(options);
}
