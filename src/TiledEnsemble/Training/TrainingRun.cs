using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Training;

/// <summary>What every step of one training call shares: the definition, the data, the run folder, the
/// device.</summary>
internal sealed class TrainingRun
{
    public TrainingRun(EnsembleDefinition definition, AnomalyDataModule data, string runDirectory)
    {
        Definition = definition;
        Data = data;
        RunDirectory = runDirectory;
        Logger = definition.Loggers.CreateLogger<EnsembleTrainer>();
        Device = DeviceNames.Parse(definition.Settings.Device);
        Loader = LoaderFor(definition.Settings, data.Loader, Logger);
    }

    public EnsembleDefinition Definition { get; }

    public EnsembleSettings Settings => Definition.Settings;

    public TileGrid Grid => Definition.Grid;

    public AnomalyDataModule Data { get; }

    public string RunDirectory { get; }

    public ILogger Logger { get; }

    public Device Device { get; }

    public SampleLoader Loader { get; }

    /// <summary>A loader of <paramref name="template"/>'s options at the settings' image size and batch
    /// sizes.</summary>
    public static SampleLoader LoaderFor(EnsembleSettings settings, LoaderOptions? template, ILogger logger) =>
        new(
            (template ?? new LoaderOptions()) with
            {
                ImageSize = settings.ImageSize,
                TrainBatchSize = settings.TrainBatchSize,
                EvalBatchSize = settings.EvalBatchSize,
                MaxImageSide = settings.MaxInputSide,
                MaxImagePixels = settings.MaxInputPixels,
            },
            logger
        );
}
