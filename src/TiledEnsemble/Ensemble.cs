using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Pretrained;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Prediction;
using TiledEnsemble.Serialization;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>
/// A tiled ensemble: one anomaly model per tile position, trained one position after another (only the model being
/// trained is in memory), saved to a run directory as it goes, joined back into full-resolution predictions.
/// Build one with <see cref="TiledEnsembleBuilder"/>, or open a trained one with <see cref="Load"/>.
/// </summary>
public sealed partial class Ensemble : IDisposable
{
    private const string BackboneFile = "backbone.safetensors";
    private readonly Func<ModelContext, IAnomalyModel> _factory;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Device _device;
    private readonly object _gate = new();
    private ResNet? _backbone;
    private EnsemblePipeline? _pipeline;
    private RunManifest? _manifest;

    internal Ensemble(EnsembleSettings settings, Func<ModelContext, IAnomalyModel>? factory, ILoggerFactory? loggers)
    {
        Settings = settings;
        _factory = factory ?? ModelFactory.Create;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<Ensemble>();
        _device = DeviceNames.Parse(settings.Device);
        Grid = TileGrid.Create(settings.ImageSize, settings.TileSize, settings.Stride);
    }

    /// <summary>The settings.</summary>
    public EnsembleSettings Settings { get; }

    /// <summary>The tile grid.</summary>
    public TileGrid Grid { get; }

    /// <summary>The run directory once trained or loaded.</summary>
    public string? RunDirectory { get; private set; }

    /// <summary>Whether every position is trained and the statistics are known.</summary>
    public bool IsTrained => _manifest?.Complete == true;

    /// <summary>Image-stage statistics (null before training or without an image stage).</summary>
    public PostProcessingStatistics? ImageStatistics => _manifest?.ImageStatistics;

    /// <summary>Where the backbone weights came from (as the run recorded it), once trained or loaded.</summary>
    public string? BackboneSource => _manifest?.BackboneSource;

    /// <summary>
    /// Opens a trained run directory: verifies the manifest's own checksum, its format version and the SHA-256 of every
    /// file before any weight is used, and refuses with a message naming the file otherwise.
    /// </summary>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="device">Overrides the device the run was trained on (e.g. train on CUDA, inspect on CPU).</param>
    /// <param name="factory">The model factory, for runs trained with a custom one.</param>
    /// <param name="loggers">Logging.</param>
    public static Ensemble Load(string runDirectory, string? device = null, Func<ModelContext, IAnomalyModel>? factory = null, ILoggerFactory? loggers = null)
    {
        Hosting.NativeRuntime.EnsureLoaded();
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        var manifest = RunStore.ReadManifest(runDirectory);
        if (!manifest.Complete)
        {
            throw new RunIntegrityException(Path.Combine(runDirectory, RunStore.ManifestFile), $"training stopped after {Math.Max(manifest.Positions.Count, PositionEntries.LoadAll(runDirectory).Count)} of {manifest.Rows * manifest.Columns} positions; resume it before predicting (`tiled-ensemble train --config <its config> --run-dir {runDirectory}`, or Ensemble.ResumeAsync; for a sharded run, `tiled-ensemble train --config <its config> --run-dir {runDirectory} --finalize` once every shard is done).");
        }

        var settings = manifest.Settings! with { Device = device ?? manifest.Settings!.Device };
        var ensemble = new Ensemble(settings, factory, loggers);
        ensemble.Open(runDirectory, manifest);
        return ensemble;
    }

    /// <summary>
    /// Continues an interrupted training in <paramref name="runDirectory"/> with the settings saved there: positions
    /// already finished (and whose files verify) are kept, the others trained.
    /// </summary>
    /// <exception cref="DataChangedException">The training or validation files differ from those the run started with.</exception>
    /// <exception cref="RunLockedException">Another training is writing the folder.</exception>
    public static async Task<(Ensemble Ensemble, FitResult Result)> ResumeAsync(string runDirectory, AnomalyDataModule data, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default, Func<ModelContext, IAnomalyModel>? factory = null, ILoggerFactory? loggers = null, FitOptions? options = null)
    {
        var manifest = RunStore.ReadManifest(runDirectory);
        var ensemble = new Ensemble(manifest.Settings!, factory, loggers);
        var result = await ensemble.FitAsync(data, runDirectory, options ?? new FitOptions(), progress, cancellationToken).ConfigureAwait(false);
        return (ensemble, result);
    }

    /// <summary>
    /// Trains every tile position on <paramref name="data"/>'s training images, collects the statistics on its
    /// validation images, and saves everything to <paramref name="runDirectory"/>. Each finished position is saved
    /// atomically with a manifest entry, so calling this again on the same directory (after a crash or cancellation)
    /// resumes where it stopped.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory holds another run or unrelated files, or there is no validation data.</exception>
    /// <exception cref="RunLockedException">Another training is writing the folder (nothing is changed).</exception>
    /// <exception cref="DataChangedException">Resuming, and the training or validation files differ from those the run started with.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished positions stay saved.</exception>
    public Task<FitResult> FitAsync(AnomalyDataModule data, string runDirectory, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FitAsync(data, runDirectory, new FitOptions(), progress, cancellationToken);

    /// <summary>As <see cref="FitAsync(AnomalyDataModule, string, IProgress{EnsembleProgress}?, CancellationToken)"/>, with options for resuming.</summary>
    public Task<FitResult> FitAsync(AnomalyDataModule data, string runDirectory, FitOptions options, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        if (data.Validation.Count(s => s.Label != SampleLabel.Unknown) == 0)
        {
            throw new InvalidOperationException($"Training needs labelled validation images to compute normalization statistics and thresholds, but {data.Name}/{data.Category} has none. Use ValSplitMode SameAsTest, FromTest or Synthetic.");
        }

        return TrainAsync(data, runDirectory, options, progress, cancellationToken);
    }

    private Task<FitResult> TrainAsync(AnomalyDataModule data, string runDirectory, FitOptions options, IProgress<EnsembleProgress>? progress, CancellationToken cancellationToken) =>
        RunTraining(() => Fit(data, runDirectory, options, progress, cancellationToken), cancellationToken);

    /// <summary>Runs training work with the allocator settings of training, on dedicated threads that end with it.</summary>
    internal async Task<T> RunTraining<T>(Func<T> work, CancellationToken cancellationToken)
    {
        using var allocator = Hosting.NativeAllocator.BeginTraining(_logger);

        // A thread per training device beyond the usual ones, so that every device's worker runs at once.
        return await Hosting.DedicatedThreads.RunAsync("TiledEnsemble training", WorkThreads + Settings.TrainingDevices.Count, work, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Evaluates on <paramref name="samples"/> (typically <c>data.Test</c>): metrics, per-image results, pictures.</summary>
    public Task<EvaluationResult> EvaluateAsync(IReadOnlyList<AnomalySample> samples, EvaluationOptions? options = null, IProgress<EnsembleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var pipeline = RequirePipeline();
        return Hosting.DedicatedThreads.RunAsync("TiledEnsemble evaluation", WorkThreads, () => new Evaluator(this, pipeline, options ?? new EvaluationOptions(), _logger).Run(samples, progress, cancellationToken), cancellationToken);
    }

    /// <summary>Threads for training and evaluation: one per core plus the one that waits for the loader.</summary>
    private static int WorkThreads => Environment.ProcessorCount + 1;

    /// <summary>Predicts one image file (any size; resized to the image size and back).</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read.</exception>
    public ImagePrediction Predict(string imagePath)
    {
        // No dispose scope here: the prediction's tensors must reach the caller.
        using var image = ImageIO.ReadImage(imagePath);
        return Predict(image).Single();
    }

    /// <summary>
    /// Writes a picture of a prediction: the image, the heat map over it and the segmentation, titled, with the score,
    /// label and both thresholds written under them and the heat map's colour scale.
    /// </summary>
    /// <param name="path">PNG file to write (beside it first, then renamed over it).</param>
    /// <param name="image">[3, H, W] image in [0, 1] at the size it was predicted.</param>
    /// <param name="prediction">The prediction of <paramref name="image"/>.</param>
    /// <param name="name">The image's name for the caption.</param>
    public void SavePicture(string path, Tensor image, ImagePrediction prediction, string name)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        TensorGuard.Rank(image, 3, nameof(image), "[3, H, W]");
        Visualization.Visualizer.SavePrediction(path, image, prediction, name, Visualization.ScoreThresholds.Of(Settings, ImageStatistics));
    }

    /// <summary>
    /// Predicts images [B, 3, H, W] or [3, H, W] with values in [0, 1], at any size: they are resized to the image size,
    /// and maps and masks come back at the input size. Thread-safe.
    /// </summary>
    public IReadOnlyList<ImagePrediction> Predict(Tensor images)
    {
        var pipeline = RequirePipeline();
        TensorGuard.NotNull(images, nameof(images));
        using var scope = NewDisposeScope();
        var batch = images.dim() == 3 ? images.unsqueeze(0) : images;
        TensorGuard.Rank(batch, 4, nameof(images), "[B, 3, H, W] or [3, H, W]");
        TensorGuard.FloatingPoint(batch, nameof(images));
        long height = batch.shape[2], width = batch.shape[3];
        if (batch.shape[0] == 0 || batch.shape[1] != 3 || height == 0 || width == 0)
        {
            throw new ArgumentException($"images must be a non-empty [B, 3, H, W] batch of RGB images; got {TensorGuard.Describe(batch)}.", nameof(images));
        }

        if (height > Settings.MaxInputSide || width > Settings.MaxInputSide)
        {
            throw new ArgumentException($"images are {height}x{width}, beyond MaxInputSide {Settings.MaxInputSide}; resize them or raise the limit.", nameof(images));
        }

        var resized = ImageIO.Resize(batch, Settings.ImageSize);
        var raw = pipeline.PredictPositions(resized);
        var results = new List<ImagePrediction>();
        foreach (var (start, count) in pipeline.Chunks(batch.shape[0]))
        {
            using var output = pipeline.Finish(raw, start, count);

            // At the image size the restored maps are views of the chunk's: copies make each prediction own its maps.
            bool resize = height != output.Maps.shape[2] || width != output.Maps.shape[3];
            for (int i = 0; i < count; i++)
            {
                var (restoredMap, restoredMask) = InputResolution.Restore(output.Maps[i..(i + 1)], output.Masks[i..(i + 1)], height, width);
                var map = resize ? restoredMap[0] : restoredMap[0].clone();
                var mask = resize ? restoredMask[0] : restoredMask[0].clone();
                var boxes = BoxFinder.Find(map, mask);
                results.Add(new ImagePrediction(map.cpu().MoveToOuterDisposeScope(), mask.cpu().MoveToOuterDisposeScope(), output.Scores[i].item<float>(), output.RawScores[i].item<float>(), output.Labels[i].item<bool>(), boxes));
            }
        }

        return results;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _pipeline?.Dispose();
        _backbone?.Dispose();
    }

    internal EnsemblePipeline RequirePipeline() =>
        _pipeline ?? throw new InvalidOperationException("The ensemble is not trained; call FitAsync, or open a run with Ensemble.Load.");

    internal SampleLoader LoaderFor(LoaderOptions? template) =>
        new((template ?? new LoaderOptions()) with { ImageSize = Settings.ImageSize, TrainBatchSize = Settings.TrainBatchSize, EvalBatchSize = Settings.EvalBatchSize }, _logger);

    private void Open(string runDirectory, RunManifest manifest)
    {
        var backbone = LoadBackbone(runDirectory, manifest);
        _pipeline?.Dispose();
        _backbone?.Dispose();
        _backbone = backbone;
        _manifest = manifest;
        RunDirectory = runDirectory;
        _pipeline = new EnsemblePipeline(Settings, _factory, backbone, _device, runDirectory, manifest);

        // Inside a training this does nothing; the training's end makes the same setting.
        Hosting.NativeAllocator.BeginPrediction(_logger);
    }

    private ResNet LoadBackbone(string runDirectory, RunManifest manifest, Device? device = null)
    {
        var path = RunStore.Verify(runDirectory, manifest.Backbone ?? throw new RunIntegrityException(Path.Combine(runDirectory, RunStore.ManifestFile), "the manifest lists no backbone file."));
        var backbone = BackboneWeights.Load(BackboneNames.Parse(Settings.Backbone), path, out _);
        backbone.to(device ?? _device);
        return backbone;
    }

    /// <summary>The backbone a new run starts from, with where its weights came from.</summary>
    private (ResNet Backbone, string Source, Dictionary<string, string>? Provenance) CreateBackbone()
    {
        var kind = BackboneNames.Parse(Settings.Backbone);
        string? path = Settings.BackboneWeights ?? (Settings.PreTrained ? PretrainedBackbones.Require(kind) : null);
        if (path is null)
        {
            _logger.LogWarning("Pretrained weights are off (pre_trained: false): {Backbone} is initialised from seed {Seed}. Results will be far from published ones.", Settings.Backbone, Settings.Seed);
            return (ResNet.Create(kind, Settings.Seed), $"seed:{Settings.Seed}", null);
        }

        var backbone = BackboneWeights.Load(kind, path, out var metadata);
        var origin = Settings.BackboneWeights is null ? $"pretrained:{PretrainedBackbones.PackageId}" : "file";
        _logger.LogInformation("Backbone {Backbone} from {File} ({Source})", Settings.Backbone, path, metadata.GetValueOrDefault("source", "no provenance recorded in the file"));
        return (backbone, $"{origin}:{Path.GetFileName(path)} sha256:{RunStore.HashFile(path)}", metadata.Count > 0 ? new Dictionary<string, string>(metadata) : null);
    }
}
