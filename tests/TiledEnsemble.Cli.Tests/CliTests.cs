using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Cli;
using TiledEnsemble.Data.Synthetic;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cli-").FullName;

    public CliTests() =>
        TestRunFiles.WriteFabric(_root, 64, trainCount: 6, testGoodCount: 3, DefectKind.Spot, DefectKind.Cut);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Config(string extra = "", string root = "data")
    {
        var path = Path.Combine(_root, $"config{Guid.NewGuid():N}.yaml");
        File.WriteAllText(
            path,
            $"""
            seed: 1
            default_root_dir: results
            tiling:
              image_size: 64
              tile_size: 32
              stride: 32
            data:
              class_path: anomalib.data.MVTecAD
              init_args:
                root: {root}
                category: fabric
                train_batch_size: 4
                eval_batch_size: 4
                num_workers: 1
            TrainModels:
              model:
                class_path: Padim
                init_args:
                  backbone: resnet18
                  n_features: 10
            {extra}
            """
        );
        return path;
    }

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task TrainEvalAndPredictWorkEndToEnd()
    {
        var config = Config();
        var (code, output, error) = await Run("train", "--config", config);
        Assert.True(code == 0, error);
        var run = Path.Combine(_root, "results", "Padim", "MVTecAD", "fabric", "run0");
        Assert.Contains(run, output);
        Assert.True(File.Exists(Path.Combine(run, "manifest.json")));
        Assert.True(File.Exists(Path.Combine(run, "metrics.json")));
        Assert.Contains("pixel_AUROC", output);

        // A second train goes to run1, never over run0.
        Assert.Equal(0, (await Run("train", "--config", config, "--no-test")).Code);
        Assert.True(Directory.Exists(Path.Combine(_root, "results", "Padim", "MVTecAD", "fabric", "run1")));

        var (evalCode, evalOutput, evalError) = await Run("eval", "--config", config, "--root", run);
        Assert.True(evalCode == 0, evalError);
        Assert.True(File.Exists(Path.Combine(run, "evaluation", "metrics.json")));
        Assert.True(File.Exists(Path.Combine(run, "evaluation", "predictions.csv")));
        Assert.NotEmpty(
            Directory.GetFiles(Path.Combine(run, "evaluation", "images"), "*.png", SearchOption.AllDirectories)
        );

        var predictions = Path.Combine(_root, "predictions");
        var (predictCode, _, predictError) = await Run(
            "predict",
            "--root",
            run,
            "--input",
            Path.Combine(_root, "data", "fabric", "test", "spot"),
            "--output",
            predictions
        );
        Assert.True(predictCode == 0, predictError);
        var npy = File.ReadAllBytes(Path.Combine(predictions, "000.png.npy"));
        Assert.Equal(0x93, npy[0]);
        Assert.Contains("'shape': (64, 64)", System.Text.Encoding.ASCII.GetString(npy, 0, 128));
        Assert.True(File.Exists(Path.Combine(predictions, "000.png_heatmap.png")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(predictions, "predictions.csv")).Length);
    }

    [Fact]
    public async Task ATypoInTheConfigIsAnErrorNamingTheKeyPath()
    {
        var (code, _, error) = await Run("train", "--config", Config("SeamSmoothing:\n  sigmaa: 3"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("SeamSmoothing.sigmaa", error);
        Assert.Contains("sigma", error);

        var wrongType = await Run("train", "--config", Config("SeamSmoothing:\n  sigma: wide"));
        Assert.Equal(CliApp.UsageError, wrongType.Code);
        Assert.Contains("SeamSmoothing.sigma must be a number; got 'wide'", wrongType.Error);

        var badValue = await Run("train", "--config", Config("normalization_stage: tiles"));
        Assert.Contains("allowed: tile, image, none", badValue.Error);
    }

    [Fact]
    public async Task AMissingRootIsAConfigurationError()
    {
        var (code, _, error) = await Run("train", "--config", Config(root: "nowhere"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("nowhere", error);
        Assert.Equal(CliApp.UsageError, (await Run("train", "--config", Path.Combine(_root, "missing.yaml"))).Code);
        Assert.Equal(CliApp.UsageError, (await Run("train")).Code);
        Assert.Equal(CliApp.UsageError, (await Run("fly")).Code);
    }

    [Fact]
    public async Task ACorruptImageStopsPredictionWithItsNameUnlessSkipped()
    {
        var config = Config();
        Assert.Equal(0, (await Run("train", "--config", config, "--no-test")).Code);
        var run = Path.Combine(_root, "results", "Padim", "MVTecAD", "fabric", "run0");
        var folder = Path.Combine(_root, "mixed");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(_root, "data", "fabric", "test", "good", "000.png"), Path.Combine(folder, "a.png"));
        File.WriteAllText(Path.Combine(folder, "b.png"), "not an image");

        var (code, _, error) = await Run(
            "predict",
            "--root",
            run,
            "--input",
            folder,
            "--output",
            Path.Combine(_root, "out1")
        );
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Contains("b.png", error);

        var skipped = await Run(
            "predict",
            "--root",
            run,
            "--input",
            folder,
            "--output",
            Path.Combine(_root, "out2"),
            "--skip-bad-files"
        );
        Assert.Equal(0, skipped.Code);
        var csv = File.ReadAllLines(Path.Combine(_root, "out2", "predictions.csv"));
        const string Skipped = ",,,,\"skipped: not a supported image (PNG, JPEG, BMP or TIFF), or corrupt";
        Assert.Contains(csv, l => l.Contains("b.png") && l.Contains(Skipped));
        Assert.Contains(csv, l => l.Contains("a.png") && l.EndsWith("ok"));
    }

    [Fact]
    public async Task TheShippedConfigParsesWithTheSeedDefaults()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "ens_config.yaml");
        var config = Cli.Config.RunConfig.Load(shipped);
        Assert.Equal(256, config.Options.ImageHeight);
        Assert.Equal(128, config.Options.TileHeight);
        Assert.Equal(128, config.Options.StrideHeight);
        Assert.Equal(Models.ModelKind.Padim, config.Options.Model);
        Assert.Equal("bottle", config.Category);
        Assert.Equal(500, config.Options.ModelSettings.MaxEpochs);
        Assert.Equal(42, config.Options.ModelSettings.EarlyStoppingPatience);
        Assert.Equal(Models.Training.TrainingMetric.PixelAuroc, config.Options.ModelSettings.EarlyStoppingMonitor);
        await Task.CompletedTask;
    }

    [Fact]
    public void TrainerSettingsReachTheGradientTrainedModelsAndBadOnesAreNamed()
    {
        static string Yaml(string monitor, string mode) =>
            $"""
                TrainModels:
                  model:
                    class_path: Stfpm
                    init_args:
                      backbone: resnet18
                      learning_rate: 0.01
                  trainer:
                    max_epochs: 3
                    callbacks:
                      - class_path: lightning.pytorch.callbacks.EarlyStopping
                        init_args:
                          patience: 2
                          monitor: {monitor}
                          mode: {mode}
                """;
        var path = Path.Combine(_root, "trainer.yaml");
        File.WriteAllText(path, Yaml("image_AUROC", "max"));
        var config = Cli.Config.RunConfig.Load(path);
        Assert.Equal(Models.ModelKind.Stfpm, config.Options.Model);
        Assert.Equal(3, config.Options.ModelSettings.MaxEpochs);
        Assert.Equal(2, config.Options.ModelSettings.EarlyStoppingPatience);
        Assert.Equal(Models.Training.TrainingMetric.ImageAuroc, config.Options.ModelSettings.EarlyStoppingMonitor);
        Assert.Equal(0.01, config.Options.ModelSettings.LearningRate);

        File.WriteAllText(path, Yaml("val_loss", "max"));
        Assert.Contains(
            "allowed: pixel_AUROC, image_AUROC",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
        File.WriteAllText(path, Yaml("pixel_AUROC", "min"));
        Assert.Contains(
            "mode: max",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );

        // The loss on good validation images is watched for a minimum.
        File.WriteAllText(path, Yaml("good_image_loss", "min"));
        Assert.Equal(
            Models.Training.TrainingMetric.GoodImageLoss,
            Cli.Config.RunConfig.Load(path).Options.ModelSettings.EarlyStoppingMonitor
        );
        File.WriteAllText(path, Yaml("good_image_loss", "max"));
        Assert.Contains(
            "good_image_loss (lower is better); use mode: min",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }

    [Fact]
    public void EveryModelOptionHasAKeyInTheConfiguration()
    {
        var path = Path.Combine(_root, "model-options.yaml");
        File.WriteAllText(
            path,
            """
            TrainModels:
              model:
                class_path: ReverseDistillation
                init_args:
                  blur_sigma: 2.5
                  anomaly_map_mode: multiply
                  hidden_ratio: 0.5
                  conv3x3_only: true
                  projection_dimension: 32
                  distance_chunk_size: 256
              trainer:
                max_epochs: 4
                check_val_every_n_epoch: 2
            """
        );
        var m = Cli.Config.RunConfig.Load(path).Options.ModelSettings;
        Assert.Equal(
            (2.5, Models.ReverseDistillation.AnomalyMapMode.Multiply, 0.5, true),
            (m.BlurSigma, m.MapMode, m.HiddenRatio, m.Conv3x3Only)
        );
        Assert.Equal((32, 256, 4, 2), (m.ProjectionDimension, m.DistanceChunkSize, m.MaxEpochs, m.ValidationInterval));

        File.WriteAllText(
            path,
            "TrainModels:\n  model:\n    class_path: ReverseDistillation\n    init_args:\n      anomaly_map_mode: max\n"
        );
        Assert.Contains(
            "anomaly_map_mode is 'max'; allowed: add, multiply",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
        File.WriteAllText(path, "TrainModels:\n  model:\n    class_path: Padim\n    init_args:\n      blur_sigma: 0\n");
        Assert.Contains(
            "BlurSigma must be a positive number of pixels; got 0",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }

    [Fact]
    public void GoodImagesHeldOutFromTrainingSetFalseRejectThresholds()
    {
        var path = Path.Combine(_root, "false-reject.yaml");
        static string Yaml(string rate) =>
            $"""
                thresholding:
                  method: FalseRejectRateThreshold
                  false_reject_rate: {rate}
                data:
                  class_path: MVTecAD
                  init_args:
                    root: data
                    category: fabric
                    val_split_mode: from_train
                    val_split_ratio: 0.2
                """;
        File.WriteAllText(path, Yaml("0.02"));
        var config = Cli.Config.RunConfig.Load(path);
        Assert.Equal(PostProcessing.ThresholdMethod.FalseRejectRate, config.Options.ThresholdMethod);
        Assert.Equal(0.02, config.Options.FalseRejectRate);
        Assert.Equal(Data.Datasets.ValSplitMode.FromTrain, config.Split.ValSplitMode);
        Assert.Equal(0.2, config.Split.ValSplitRatio);

        File.WriteAllText(path, Yaml("1"));
        Assert.Contains(
            "FalseRejectRate is the share of good parts that may be rejected, in [0, 1); got 1",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }

    [Fact]
    public void TrainingsStartedTogetherWithoutARunDirectoryClaimDistinctFolders()
    {
        var root = Path.Combine(_root, "claims");
        var claimed = Enumerable
            .Range(0, 8)
            .AsParallel()
            .Select(_ => Cli.Commands.RunDirectories.Next(root, "Padim", "MVTecAD", "fabric"))
            .ToList();
        Assert.Equal(8, claimed.Distinct().Count());
        Assert.Equal(
            Enumerable.Range(0, 8).Select(i => $"run{i}"),
            claimed.Select(Path.GetFileName).Order(StringComparer.Ordinal)
        );
    }

    [Theory]
    [InlineData("!!str seed: 5", "'seed' with the tag")]
    [InlineData("? [seed, image_size]\n: 5", "a complex key")]
    [InlineData("tiling:\n  !custom tile_size: 64", "'tiling' has a key that is not a plain name")]
    [InlineData("seed: !python/object 5", "'seed' has the tag '!python/object'")]
    [InlineData("seed: 5\nseed: 6", "Duplicate key seed")]
    public void KeysThatALookupByNameWouldMissAreRefusedNotIgnored(string yaml, string expected)
    {
        var path = Path.Combine(_root, "strict.yaml");
        File.WriteAllText(path, yaml + "\n");
        var error = Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path));
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);

        // YAML's own tags on values are still read.
        File.WriteAllText(path, "seed: !!int 5\n");
        Assert.Equal(5, Cli.Config.RunConfig.Load(path).Options.Seed);
    }

    [Fact]
    public void ThePixelBudgetIsReadFromTheConfigForTheDataAndTheEnsemble()
    {
        var path = Path.Combine(_root, "budget.yaml");
        File.WriteAllText(path, "max_image_pixels: 4000000\n");
        var config = Cli.Config.RunConfig.Load(path);
        Assert.Equal(4_000_000, config.Options.MaxInputPixels);

        File.WriteAllText(path, "max_image_pixels: 0\n");
        Assert.Contains(
            "MaxInputPixels must be positive",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void CalibrationIsReadFromTheConfigAndCheckedAgainstTileThresholds()
    {
        var path = Path.Combine(_root, "calibration.yaml");
        static string Yaml(string calibration, string stage) =>
            $"""
                calibration: {calibration}
                thresholding:
                  method: FalseRejectRateThreshold
                  stage: {stage}
                data:
                  class_path: MVTecAD
                  init_args:
                    root: data
                    category: fabric
                    val_split_mode: from_train
                """;
        File.WriteAllText(path, Yaml("per_pixel", "image"));
        Assert.Equal(PostProcessing.PositionCalibration.PerPixel, Cli.Config.RunConfig.Load(path).Options.Calibration);
        File.WriteAllText(path, Yaml("per_position", "image"));
        Assert.Equal(
            PostProcessing.PositionCalibration.PerPosition,
            Cli.Config.RunConfig.Load(path).Options.Calibration
        );

        File.WriteAllText(path, Yaml("per_position", "tile"));
        Assert.Contains(
            "Calibration PerPosition standardizes each position's maps before joining",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
        File.WriteAllText(path, Yaml("per_tile", "image"));
        Assert.Contains(
            "per_tile",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }

    [Fact]
    public void ADeviceListTrainsOnEachAndPredictsOnTheFirst()
    {
        var path = Path.Combine(_root, "devices.yaml");
        File.WriteAllText(path, "device: [cpu, cpu]\n");
        var config = Cli.Config.RunConfig.Load(path);
        Assert.Equal(new[] { "cpu", "cpu" }, config.Options.Devices);
        Assert.Equal(new[] { "cpu", "cpu" }, TiledEnsembleBuilder.ToSettings(config.Options).TrainingDevices);

        File.WriteAllText(path, "device: cpu\n");
        Assert.Empty(Cli.Config.RunConfig.Load(path).Options.Devices);

        File.WriteAllText(path, "device: []\n");
        Assert.Contains(
            "device is an empty list",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
        File.WriteAllText(path, "device: [cpu, gpu0]\n");
        Assert.Contains(
            "got 'gpu0'",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }

    [Fact]
    public void ImageScoreAndMetricsResolutionAreReadAndBadValuesNamed()
    {
        var path = Path.Combine(_root, "scoring.yaml");
        File.WriteAllText(
            path,
            "image_score: top_k_mean_of_map\nimage_score_top_k: 50\nmetrics_resolution: image_size\n"
        );
        var config = Cli.Config.RunConfig.Load(path);
        Assert.Equal(Joining.ImageScoreAggregation.TopKMeanOfMap, config.Options.ImageScore);
        Assert.Equal(50, config.Options.ImageScoreTopK);
        Assert.Equal(Evaluation.MetricResolution.ImageSize, config.MetricsResolution);

        File.WriteAllText(path, "seed: 1\n");
        var defaults = Cli.Config.RunConfig.Load(path);
        Assert.Equal(Joining.ImageScoreAggregation.MeanOfPositions, defaults.Options.ImageScore);
        Assert.Equal(Evaluation.MetricResolution.Original, defaults.MetricsResolution);

        File.WriteAllText(path, "image_score: max\n");
        Assert.Contains(
            "image_score is 'max'; allowed: mean_of_positions, max_of_positions, max_of_map, top_k_mean_of_map",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
        File.WriteAllText(path, "image_score_top_k: 0\n");
        Assert.Contains(
            "ImageScoreTopK must be positive; got 0",
            Assert.Throws<Cli.Config.ConfigException>(() => Cli.Config.RunConfig.Load(path)).Message
        );
    }
}
