using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Prediction;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>
/// A tiled ensemble: one anomaly model per tile position. It joins the three jobs of a composed pipeline
/// (<see cref="Definition"/>, immutable): training with its <see cref="IEnsembleTrainer"/> (fit, resume, shards,
/// finalize), prediction with the <see cref="EnsemblePredictor"/> of its latest trained run, and evaluation. Build one
/// with <see cref="TiledEnsembleBuilder"/>, or open a trained run with <see cref="Load(string, EnsembleLoadOptions)"/>.
/// </summary>
/// <remarks>
/// Only the predictor changes, and only when a training call finishes: the new run's predictor replaces the old one,
/// which is then released, so do not predict with an ensemble while it trains. Where a trained run is only predicted,
/// use <see cref="EnsemblePredictor"/> itself, which never changes.
/// </remarks>
public sealed class Ensemble : IDisposable
{
    private readonly IEnsembleTrainer _trainer;
    private EnsemblePredictor? _predictor;

    internal Ensemble(EnsembleDefinition definition, IEnsembleTrainer trainer, EnsemblePredictor? predictor = null)
    {
        Definition = definition;
        _trainer = trainer;
        _predictor = predictor;
    }

    /// <summary>The settings and stages.</summary>
    public EnsembleDefinition Definition { get; }

    /// <summary>The settings.</summary>
    public EnsembleSettings Settings => Definition.Settings;

    /// <summary>The tile layout.</summary>
    public TileGrid Grid => Definition.Grid;

    /// <summary>The predictor of the latest trained (or loaded) run; null before training.</summary>
    public EnsemblePredictor? Predictor => Volatile.Read(ref _predictor);

    /// <summary>The run directory once trained or loaded.</summary>
    public string? RunDirectory => Predictor?.RunDirectory;

    /// <summary>Whether a trained run is open for prediction.</summary>
    public bool IsTrained => Predictor is not null;

    /// <summary>The default post-processor's image-level statistics (null before training, without an image level, or
    /// with a post-processor of one's own).</summary>
    public PostProcessingStatistics? ImageStatistics => Predictor?.ImageStatistics;

    /// <summary>Where the backbone weights came from (as the run recorded it), once trained or loaded.</summary>
    public string? BackboneSource => Predictor?.BackboneSource;

    /// <summary>Opens a trained run made with the default stages (see <see cref="EnsemblePredictor.Load"/>).</summary>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="device">Overrides the device the run was trained on (e.g. train on CUDA, inspect on CPU).</param>
    /// <param name="loggers">Logging.</param>
    public static Ensemble Load(string runDirectory, string? device = null, ILoggerFactory? loggers = null) =>
        Load(runDirectory, new EnsembleLoadOptions { Device = device, Loggers = loggers });

    /// <summary>Opens a trained run, with the stages of the caller's it was made with (see
    /// <see cref="EnsemblePredictor.Load"/>).</summary>
    /// <exception cref="RunIntegrityException">A file is missing, changed or of another format, or training did not
    /// finish.</exception>
    /// <exception cref="StageMismatchException">The run was made with a stage that was not given, or with another
    /// one.</exception>
    public static Ensemble Load(string runDirectory, EnsembleLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var predictor = EnsemblePredictor.Load(runDirectory, options);
        return new Ensemble(predictor.Definition, new EnsembleTrainer(), predictor);
    }

    /// <summary>
    /// Continues an interrupted training in <paramref name="runDirectory"/> with the settings and stages saved there:
    /// positions already finished (and whose files verify) are kept, the others trained.
    /// </summary>
    /// <param name="runDirectory">The run to resume.</param>
    /// <param name="data">The data it was started on.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Stops between steps; finished positions stay saved.</param>
    /// <param name="stages">Device, logging and the stages of the caller's the run was made with.</param>
    /// <param name="options">How an existing run is treated.</param>
    /// <param name="trainer">The trainer; null: <see cref="EnsembleTrainer"/>.</param>
    /// <exception cref="DataChangedException">The training or validation files differ from those the run started
    /// with.</exception>
    /// <exception cref="RunLockedException">Another training is writing the folder.</exception>
    /// <exception cref="StageMismatchException">The run was made with a stage that was not given, or with another
    /// one.</exception>
    public static async Task<(Ensemble Ensemble, FitResult Result)> ResumeAsync(
        string runDirectory,
        AnomalyDataModule data,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default,
        EnsembleLoadOptions? stages = null,
        FitOptions? options = null,
        IEnsembleTrainer? trainer = null
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        stages ??= new EnsembleLoadOptions();
        var manifest = RunStore.ReadManifest(runDirectory);
        var settings = manifest.Settings! with { Device = stages.Device ?? manifest.Settings!.Device };
        var definition = EnsembleDefinition.ForRun(runDirectory, settings, RunStore.Stages(manifest), stages);
        var ensemble = new Ensemble(definition, trainer ?? new EnsembleTrainer());
        try
        {
            var result = await ensemble
                .FitAsync(data, runDirectory, options ?? new FitOptions(), progress, cancellationToken)
                .ConfigureAwait(false);
            return (ensemble, result);
        }
        catch
        {
            ensemble.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains every tile position on <paramref name="data"/>'s training images, collects the statistics on its
    /// validation images, and saves everything to <paramref name="runDirectory"/>, then opens the run for prediction.
    /// Each finished position is saved atomically, so calling this again on the same directory (after a crash or
    /// cancellation) resumes where it stopped.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory holds another run or unrelated files, or there is no
    /// validation data.</exception>
    /// <exception cref="StageMismatchException">The directory holds a run made with other stages.</exception>
    /// <exception cref="RunLockedException">Another training is writing the folder (nothing is changed).</exception>
    /// <exception cref="DataChangedException">Resuming, and the training or validation files differ from those the run
    /// started with.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished positions stay saved.</exception>
    public Task<FitResult> FitAsync(
        AnomalyDataModule data,
        string runDirectory,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => FitAsync(data, runDirectory, new FitOptions(), progress, cancellationToken);

    /// <summary>As <see cref="FitAsync(AnomalyDataModule, string, IProgress{EnsembleProgress}?, CancellationToken)"/>,
    /// with options for resuming.</summary>
    public async Task<FitResult> FitAsync(
        AnomalyDataModule data,
        string runDirectory,
        FitOptions options,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        var result = await _trainer
            .FitAsync(Definition, data, runDirectory, options, progress, cancellationToken)
            .ConfigureAwait(false);
        Open(runDirectory);
        return result;
    }

    /// <summary>Trains shard <paramref name="index"/> of <paramref name="count"/> of the positions into a shared run
    /// folder (see <see cref="IEnsembleTrainer.TrainShardAsync"/>).</summary>
    public Task<ShardResult> TrainShardAsync(
        AnomalyDataModule data,
        string runDirectory,
        int index,
        int count,
        FitOptions? options = null,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) =>
        _trainer.TrainShardAsync(
            Definition,
            data,
            runDirectory,
            index,
            count,
            options ?? new FitOptions(),
            progress,
            cancellationToken
        );

    /// <summary>Finishes a run trained by shards, then opens it for prediction (see
    /// <see cref="IEnsembleTrainer.FinalizeAsync"/>).</summary>
    public async Task<FitResult> FinalizeAsync(
        AnomalyDataModule data,
        string runDirectory,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        var result = await _trainer
            .FinalizeAsync(Definition, data, runDirectory, progress, cancellationToken)
            .ConfigureAwait(false);
        Open(runDirectory);
        return result;
    }

    /// <summary>Evaluates on <paramref name="samples"/> (typically <c>data.Test</c>): metrics, per-image results,
    /// pictures.</summary>
    public Task<EvaluationResult> EvaluateAsync(
        IReadOnlyList<AnomalySample> samples,
        EvaluationOptions? options = null,
        IProgress<EnsembleProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => RequirePredictor().EvaluateAsync(samples, options, progress, cancellationToken);

    /// <summary>Predicts one image file (any size; resized to the image size and back).</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read.</exception>
    public ImagePrediction Predict(string imagePath) => RequirePredictor().Predict(imagePath);

    /// <summary>
    /// Predicts images [B, 3, H, W] or [3, H, W] with values in [0, 1], at any size: they are resized to the image
    /// size, and maps and masks come back at the input size. Thread-safe.
    /// </summary>
    public IReadOnlyList<ImagePrediction> Predict(Tensor images) => RequirePredictor().Predict(images);

    /// <summary>Writes a picture of a prediction (see <see cref="EnsemblePredictor.SavePicture"/>).</summary>
    public void SavePicture(string path, Tensor image, ImagePrediction prediction, string name) =>
        RequirePredictor().SavePicture(path, image, prediction, name);

    /// <inheritdoc />
    public void Dispose() => Interlocked.Exchange(ref _predictor, null)?.Dispose();

    private EnsemblePredictor RequirePredictor() =>
        Predictor
        ?? throw new InvalidOperationException(
            "The ensemble is not trained; call FitAsync, or open a run with Ensemble.Load."
        );

    /// <summary>Opens the run just trained with this definition's stages and replaces the predictor.</summary>
    private void Open(string runDirectory)
    {
        var predictor = EnsemblePredictor.Load(
            runDirectory,
            new EnsembleLoadOptions
            {
                Device = Settings.Device,
                Loggers = Definition.Loggers,
                Tiler = Definition.Tiler,
                Joiner = Definition.Joiner,
                SeamSmoother = Definition.SeamSmoother,
                PostProcessor = Definition.PostProcessor,
                Model = Definition.Model,
            }
        );
        Interlocked.Exchange(ref _predictor, predictor)?.Dispose();
    }
}
