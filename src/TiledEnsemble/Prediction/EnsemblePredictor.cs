using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Prediction;
using TiledEnsemble.Tiling;
using TiledEnsemble.Training;
using TiledEnsemble.Visualization;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>
/// A trained run, opened for prediction: immutable and thread-safe (any number of threads may predict at once). Made by
/// <see cref="Load"/>, which verifies every file before it is used; disposing it releases the models.
/// </summary>
public sealed class EnsemblePredictor : IDisposable
{
    private readonly ResNet _backbone;
    private readonly PositionModels _models;
    private readonly Device _device;
    private readonly ILogger _logger;

    private EnsemblePredictor(
        EnsembleDefinition definition,
        string runDirectory,
        RunManifest manifest,
        ResNet backbone,
        Device device
    )
    {
        Definition = definition;
        RunDirectory = runDirectory;
        BackboneSource = manifest.BackboneSource;
        _backbone = backbone;
        _device = device;
        _logger = definition.Loggers.CreateLogger<EnsemblePredictor>();
        _models = new PositionModels(definition, backbone, device, runDirectory, manifest);
        Pipeline = new EnsemblePipeline(
            definition,
            FittedPostProcessors.Positions(definition, manifest, runDirectory),
            FittedPostProcessors.Image(definition, manifest, runDirectory)
        );
    }

    /// <summary>The run's settings and stages.</summary>
    public EnsembleDefinition Definition { get; }

    /// <summary>The settings.</summary>
    public EnsembleSettings Settings => Definition.Settings;

    /// <summary>The tile layout.</summary>
    public TileGrid Grid => Definition.Grid;

    /// <summary>The run directory.</summary>
    public string RunDirectory { get; }

    /// <summary>Where the backbone weights came from, as the run recorded it.</summary>
    public string BackboneSource { get; }

    /// <summary>The default post-processor's image-level statistics (null without an image level or with a
    /// post-processor of one's own).</summary>
    public PostProcessingStatistics? ImageStatistics =>
        (Pipeline.ImageProcessor as CalibratedPostProcessor)?.Statistics;

    internal EnsemblePipeline Pipeline { get; }

    /// <summary>The positions' models (loaded from the run on demand).</summary>
    internal PositionModels Models => _models;

    /// <summary>
    /// Opens a trained run directory: verifies the manifest's own checksum, its format version, the stages it was made
    /// with and the SHA-256 of every file before any weight is used, and refuses with a message naming the file or
    /// stage otherwise.
    /// </summary>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="options">Device, logging, and the stages of the caller's the run was made with; null:
    /// defaults.</param>
    /// <exception cref="RunIntegrityException">A file is missing, changed or of another format, or training did not
    /// finish.</exception>
    /// <exception cref="StageMismatchException">The run was made with a stage that was not given, or with another
    /// one.</exception>
    public static EnsemblePredictor Load(string runDirectory, EnsembleLoadOptions? options = null)
    {
        Hosting.NativeRuntime.EnsureLoaded();
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        options ??= new EnsembleLoadOptions();
        var manifest = RunStore.ReadManifest(runDirectory);
        if (!manifest.Complete)
        {
            int trained = Math.Max(manifest.Positions.Count, PositionEntries.LoadAll(runDirectory).Count);
            throw new RunIntegrityException(
                Path.Combine(runDirectory, RunStore.ManifestFile),
                $"training stopped after {trained} of {manifest.Rows * manifest.Columns} positions; resume it before "
                    + $"predicting "
                    + $"(`tiled-ensemble train --config <its config> --run-dir {runDirectory}`, or "
                    + $"Ensemble.ResumeAsync; for a "
                    + $"sharded run, `tiled-ensemble train --config <its config> --run-dir {runDirectory} "
                    + $"--finalize` once every "
                    + "shard is done)."
            );
        }

        RunStore.CheckEntries(runDirectory, manifest);
        var settings = manifest.Settings! with { Device = options.Device ?? manifest.Settings!.Device };
        var definition = EnsembleDefinition.ForRun(runDirectory, settings, RunStore.Stages(manifest), options);
        var device = DeviceNames.Parse(settings.Device);
        var backbone = BackboneStore.Load(runDirectory, manifest, device);
        try
        {
            var predictor = new EnsemblePredictor(definition, runDirectory, manifest, backbone, device);

            // Inside a training this does nothing; the training's end makes the same setting.
            Hosting.NativeAllocator.BeginPrediction(predictor._logger);
            return predictor;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>Predicts one image file (any size; resized to the image size and back).</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read.</exception>
    public ImagePrediction Predict(string imagePath)
    {
        // No dispose scope here: the prediction's tensors must reach the caller.
        using var image = ImageIO.ReadImage(
            imagePath,
            maxSide: Settings.MaxInputSide,
            maxPixels: Settings.MaxInputPixels
        );
        return Predict(image)[0];
    }

    /// <summary>
    /// Predicts images [B, 3, H, W] or [3, H, W] with values in [0, 1], at any size: they are resized to the image
    /// size, and maps and masks come back at the input size. Thread-safe.
    /// </summary>
    public IReadOnlyList<ImagePrediction> Predict(Tensor images)
    {
        TensorGuard.NotNull(images, nameof(images));
        using var scope = NewDisposeScope();
        var batch = images.dim() == 3 ? images.unsqueeze(0) : images;
        TensorGuard.Rank(batch, 4, nameof(images), "[B, 3, H, W] or [3, H, W]");
        TensorGuard.FloatingPoint(batch, nameof(images));
        long height = batch.shape[2],
            width = batch.shape[3];
        if (batch.shape[0] == 0 || batch.shape[1] != 3 || height == 0 || width == 0)
        {
            throw new ArgumentException(
                $"images must be a non-empty [B, 3, H, W] batch of RGB images; got {TensorGuard.Describe(batch)}.",
                nameof(images)
            );
        }

        if (height > Settings.MaxInputSide || width > Settings.MaxInputSide)
        {
            throw new ArgumentException(
                $"images are {height}x{width}, beyond MaxInputSide {Settings.MaxInputSide}; resize them or raise the "
                    + $"limit.",
                nameof(images)
            );
        }

        var resized = ImageIO.Resize(batch, Settings.ImageSize);
        var raw = Pipeline.PredictPositions(resized, _models, _device);
        var results = new List<ImagePrediction>();
        foreach (var (start, count) in Pipeline.Chunks(batch.shape[0]))
        {
            using var output = Pipeline.Finish(raw, start, count);

            // At the image size the restored maps are views of the chunk's: copies make each prediction own its maps.
            bool resize = height != output.Maps.shape[2] || width != output.Maps.shape[3];
            for (int i = 0; i < count; i++)
            {
                var (restoredMap, restoredMask) = InputResolution.Restore(
                    output.Maps[i..(i + 1)],
                    output.Masks[i..(i + 1)],
                    height,
                    width
                );
                var map = resize ? restoredMap[0] : restoredMap[0].clone();
                var mask = resize ? restoredMask[0] : restoredMask[0].clone();
                var boxes = BoxFinder.Find(map, mask);
                results.Add(
                    new ImagePrediction(
                        map.cpu().MoveToOuterDisposeScope(),
                        mask.cpu().MoveToOuterDisposeScope(),
                        output.Scores[i].item<float>(),
                        output.RawScores[i].item<float>(),
                        output.Labels[i].item<bool>(),
                        boxes
                    )
                );
            }
        }

        return results;
    }

    /// <summary>Evaluates on <paramref name="samples"/> (typically <c>data.Test</c>): metrics, per-image results,
    /// pictures.</summary>
    /// <remarks>Runs on threads of its own; models already in memory are used, others are loaded one at a
    /// time.</remarks>
    public Task<EvaluationResult> EvaluateAsync(
        IReadOnlyList<AnomalySample> samples,
        EvaluationOptions? options = null,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(samples);
        var evaluator = new Evaluator(this, options ?? new EvaluationOptions(), _logger);
        return Hosting.DedicatedThreads.RunAsync(
            "TiledEnsemble evaluation",
            EnsembleTrainer.WorkThreads,
            () => evaluator.Run(samples, progress, cancellationToken),
            cancellationToken
        );
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
        Visualizer.SavePrediction(path, image, prediction, name, Pipeline.Thresholds);
    }

    /// <summary>Raw per-position predictions of a batch at the image size (evaluation).</summary>
    internal IReadOnlyList<(TilePosition Position, Tensor Maps, Tensor Scores)> PredictPositions(
        Tensor images,
        bool makeResident
    ) => Pipeline.PredictPositions(images, _models, _device, makeResident);

    /// <summary>A loader at the settings' image size and batch sizes.</summary>
    internal SampleLoader LoaderFor(LoaderOptions? template) => TrainingRun.LoaderFor(Settings, template, _logger);

    /// <inheritdoc />
    public void Dispose()
    {
        _models.Dispose();
        _backbone.Dispose();
    }
}
