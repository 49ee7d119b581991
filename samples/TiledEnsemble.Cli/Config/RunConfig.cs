using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Models;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Training;
using TiledEnsemble.PostProcessing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TiledEnsemble.Cli.Config;

/// <summary>
/// The YAML configuration of the command line, with the keys of anomalib's tiled-ensemble seed documents so an anomalib
/// config mostly carries over. Parsing is strict: unknown keys and wrong types are errors naming the key path.
/// </summary>
internal sealed class RunConfig
{
    public TiledEnsembleOptions Options { get; } = new();

    public string DefaultRootDir { get; private set; } = "results";

    public string DatasetKind { get; private set; } = "MVTecAD";

    public string? Root { get; private set; }

    public string Category { get; private set; } = "bottle";

    public string? NormalDir { get; private set; }

    public string? AbnormalDir { get; private set; }

    public string? MaskDir { get; private set; }

    public string? NormalTestDir { get; private set; }

    public SplitOptions Split { get; private set; } = new();

    public int NumWorkers { get; private set; } = 2;

    public Evaluation.MetricResolution MetricsResolution { get; private set; } = Evaluation.MetricResolution.Original;

    /// <summary>What <c>train</c> exports when training ends (quadra's <c>export: types</c>): "onnx", or
    /// nothing.</summary>
    public IReadOnlyList<string> ExportTypes { get; private set; } = System.Array.Empty<string>();

    public IReadOnlyList<string> ImageMetrics { get; private set; } = new[] { "AUROC", "F1Score" };

    public IReadOnlyList<string> PixelMetrics { get; private set; } = new[] { "AUROC", "F1Score" };

    public static RunConfig Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw new ConfigException(
                $"--config '{path}' is a folder; give the YAML configuration file (for example "
                    + $"samples/TiledEnsemble.Cli/ens_config.yaml)."
            );
        }

        if (!File.Exists(path))
        {
            throw new ConfigException($"Config file '{path}' does not exist.");
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException exception)
        {
            throw new ConfigException(
                $"Config file '{path}' is not valid YAML ({exception.Start}): {exception.Message}"
            );
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner fails on some malformed input with exceptions of its state, not YamlException.
            throw new ConfigException($"Config file '{path}' is not valid YAML: {exception.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException($"Config file '{path}' must hold a mapping of settings.");
        }

        YamlStrictness.Check(root, path);
        var config = new RunConfig();
        config.Read(new YamlNode(root, string.Empty), Path.GetDirectoryName(Path.GetFullPath(path))!);
        var validation = new TiledEnsembleOptionsValidator().Validate(null, config.Options);
        if (validation.Failed)
        {
            throw new ConfigException($"Config file '{path}': {string.Join(" ", validation.Failures)}");
        }

        return config;
    }

    public AnomalyDataModule CreateDataModule(ILogger logger)
    {
        var loader = new LoaderOptions
        {
            ImageSize = (Options.ImageHeight, Options.ImageWidth),
            TrainBatchSize = Options.TrainBatchSize,
            EvalBatchSize = Options.EvalBatchSize,
            NumWorkers = NumWorkers,
            MaxImageSide = Options.MaxInputSide,
            MaxImagePixels = Options.MaxInputPixels,
        };
        try
        {
            return DatasetKind switch
            {
                "Folder" => AnomalyDataModule.Folder(
                    Category,
                    NormalDir!,
                    AbnormalDir,
                    MaskDir,
                    NormalTestDir,
                    Split,
                    loader,
                    logger
                ),
                "Visa" => AnomalyDataModule.Visa(Root!, Category, Split, loader, logger),
                _ => AnomalyDataModule.MvtecAD(Root!, Category, Split, loader, logger),
            };
        }
        catch (DirectoryNotFoundException exception)
        {
            throw new ConfigException($"data.init_args: {exception.Message}");
        }
        catch (InvalidDataException exception)
        {
            // A layout that holds no usable images (an empty train/good, an empty normal_dir): the configuration points
            // at the wrong place.
            throw new ConfigException($"data.init_args: {exception.Message}");
        }
    }

    private void Read(YamlNode root, string baseDirectory)
    {
        string Resolve(string value) =>
            Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(baseDirectory, value));
        Options.Seed = root.Int("seed") ?? Options.Seed;
        var accelerator = root.Choice("accelerator", "cpu", "gpu", "cuda", "auto");
        if (accelerator is not null)
        {
            Options.Device =
                accelerator is "cpu" ? "cpu"
                : accelerator == "auto" ? (TorchSharp.torch.cuda.is_available() ? "cuda" : "cpu")
                : "cuda";
        }

        if (root.OneOrMany("device") is { } devices)
        {
            // device: cuda:1, or device: [cuda:0, cuda:1] to train positions on both at once (prediction on the first).
            Options.Device = devices[0];
            Options.Devices = devices.Count > 1 ? devices : new List<string>();
        }
        Options.MaxInputSide = root.Int("max_image_side") ?? Options.MaxInputSide;
        Options.MaxInputPixels = root.Long("max_image_pixels") ?? Options.MaxInputPixels;
        if (
            root.Choice("image_score", Joining.ImageScores.Aggregations.Select(Joining.ImageScores.Name).ToArray()) is
            { } aggregation
        )
        {
            Options.ImageScore = Joining.ImageScores.Aggregations.Single(a =>
                Joining.ImageScores.Name(a) == aggregation
            );
        }

        Options.ImageScoreTopK = root.Int("image_score_top_k") ?? Options.ImageScoreTopK;
        if (root.Choice("metrics_resolution", "original", "image_size") is { } resolution)
        {
            MetricsResolution =
                resolution == "original" ? Evaluation.MetricResolution.Original : Evaluation.MetricResolution.ImageSize;
        }

        DefaultRootDir = root.String("default_root_dir") is { } rootDir ? Resolve(rootDir) : Resolve(DefaultRootDir);

        if (root.Mapping("tiling") is { } tiling)
        {
            if (tiling.Size("image_size") is { } image)
            {
                (Options.ImageHeight, Options.ImageWidth) = image;
            }

            if (tiling.Size("tile_size") is { } tile)
            {
                (Options.TileHeight, Options.TileWidth) = tile;
            }

            if (tiling.Size("stride") is { } stride)
            {
                (Options.StrideHeight, Options.StrideWidth) = stride;
            }

            tiling.RejectUnknown();
        }

        if (root.Choice("normalization_stage", "tile", "image", "none") is { } normalization)
        {
            Options.NormalizationStage = Enum.Parse<Stage>(normalization, ignoreCase: true);
        }

        if (root.Choice("thresholding_stage", "tile", "image") is { } oldStage)
        {
            Options.ThresholdingStage = Enum.Parse<Stage>(oldStage, ignoreCase: true);
        }

        if (root.Choice("calibration", "none", "per_position", "per_pixel") is { } calibration)
        {
            Options.Calibration = Enum.Parse<PositionCalibration>(calibration.Replace("_", ""), ignoreCase: true);
        }

        if (root.Mapping("thresholding") is { } thresholding)
        {
            if (
                thresholding.Choice(
                    "method",
                    "F1AdaptiveThreshold",
                    "ManualThreshold",
                    "FalseRejectRateThreshold",
                    "f1_adaptive",
                    "manual",
                    "false_reject_rate"
                ) is
                { } method
            )
            {
                Options.ThresholdMethod = method switch
                {
                    "F1AdaptiveThreshold" or "f1_adaptive" => ThresholdMethod.F1Adaptive,
                    "ManualThreshold" or "manual" => ThresholdMethod.Manual,
                    _ => ThresholdMethod.FalseRejectRate,
                };
            }

            if (thresholding.Choice("stage", "tile", "image") is { } stage)
            {
                Options.ThresholdingStage = Enum.Parse<Stage>(stage, ignoreCase: true);
            }

            Options.ManualImageThreshold = thresholding.Double("image_threshold") ?? Options.ManualImageThreshold;
            Options.ManualPixelThreshold = thresholding.Double("pixel_threshold") ?? Options.ManualPixelThreshold;
            Options.ManualThresholdIsNormalized = thresholding.Bool("normalized") ?? false;
            Options.FalseRejectRate = thresholding.Double("false_reject_rate") ?? Options.FalseRejectRate;
            thresholding.RejectUnknown();
        }

        if (root.Mapping("SeamSmoothing") is { } seams)
        {
            Options.SeamSmoothing.Apply = seams.Bool("apply") ?? Options.SeamSmoothing.Apply;
            Options.SeamSmoothing.Sigma = seams.Double("sigma") ?? Options.SeamSmoothing.Sigma;
            Options.SeamSmoothing.Width = seams.Double("width") ?? Options.SeamSmoothing.Width;
            seams.RejectUnknown();
        }

        if (root.Mapping("data") is { } data)
        {
            ReadData(data, Resolve);
        }

        if (root.Mapping("export") is { } export)
        {
            var types = export.Strings("types") ?? new List<string>();
            var unknown = types.Where(t => t != "onnx").ToList();
            if (unknown.Count > 0)
            {
                throw new ConfigException($"export.types holds '{string.Join("', '", unknown)}'; allowed: onnx.");
            }

            ExportTypes = types;
            export.RejectUnknown();
        }

        if (root.Mapping("TrainModels") is { } train)
        {
            ReadModels(train);
        }

        root.RejectUnknown();
    }

    private void ReadData(YamlNode data, Func<string, string> resolve)
    {
        var classPath = data.String("class_path") ?? "MVTecAD";
        DatasetKind = classPath.Split('.').Last() switch
        {
            "MVTecAD" or "MVTec" => "MVTecAD",
            "Visa" => "Visa",
            "Folder" => "Folder",
            _ => throw new ConfigException(
                $"data.class_path is '{classPath}'; allowed: anomalib.data.MVTecAD, MVTec, Visa, Folder."
            ),
        };
        var args = data.Mapping("init_args")
            ?? throw new ConfigException(
                "data.init_args is missing; it needs at least root and category (or normal_dir for Folder)."
            );
        Root = args.String("root") is { } root ? resolve(root) : null;
        Category = args.String("category") ?? args.String("name") ?? Category;
        NormalDir = args.String("normal_dir") is { } n ? resolve(Path.Combine(Root ?? string.Empty, n)) : null;
        AbnormalDir = args.String("abnormal_dir") is { } a ? resolve(Path.Combine(Root ?? string.Empty, a)) : null;
        MaskDir = args.String("mask_dir") is { } m ? resolve(Path.Combine(Root ?? string.Empty, m)) : null;
        NormalTestDir = args.String("normal_test_dir") is { } t ? resolve(Path.Combine(Root ?? string.Empty, t)) : null;
        Options.TrainBatchSize = args.Int("train_batch_size") ?? Options.TrainBatchSize;
        Options.EvalBatchSize = args.Int("eval_batch_size") ?? Options.EvalBatchSize;
        NumWorkers = args.Int("num_workers") ?? NumWorkers;
        if (NumWorkers < 0)
        {
            throw new ConfigException(
                $"data.init_args.num_workers must be 0 or more (0 decodes on the training thread); got {NumWorkers}."
            );
        }

        args.Size("image_size");
        var split = new SplitOptions { Seed = Options.Seed };
        if (args.Choice("test_split_mode", "from_dir", "synthetic", "none") is { } testMode)
        {
            split = split with
            {
                TestSplitMode = testMode switch
                {
                    "from_dir" => TestSplitMode.FromDir,
                    "synthetic" => TestSplitMode.Synthetic,
                    _ => TestSplitMode.None,
                },
            };
        }

        split = split with { TestSplitRatio = args.Double("test_split_ratio") ?? split.TestSplitRatio };
        if (
            args.Choice("val_split_mode", "same_as_test", "from_test", "from_train", "synthetic", "none") is { } valMode
        )
        {
            split = split with
            {
                ValSplitMode = valMode switch
                {
                    "same_as_test" => ValSplitMode.SameAsTest,
                    "from_test" => ValSplitMode.FromTest,
                    "from_train" => ValSplitMode.FromTrain,
                    "synthetic" => ValSplitMode.Synthetic,
                    _ => ValSplitMode.None,
                },
            };
        }

        split = split with { ValSplitRatio = args.Double("val_split_ratio") ?? split.ValSplitRatio };
        Split = split;
        if (DatasetKind == "Folder" ? NormalDir is null : Root is null)
        {
            throw new ConfigException(
                DatasetKind == "Folder"
                    ? "data.init_args.normal_dir is required for Folder datasets."
                    : "data.init_args.root is required."
            );
        }

        args.RejectUnknown();
        data.RejectUnknown();
    }

    private void ReadModels(YamlNode train)
    {
        if (train.Mapping("model") is { } model)
        {
            var classPath = model.String("class_path") ?? "Padim";
            var name = classPath.Split('.').Last();
            Options.Model = name.ToLowerInvariant() switch
            {
                "padim" => ModelKind.Padim,
                "patchcore" => ModelKind.Patchcore,
                "fastflow" => ModelKind.FastFlow,
                "stfpm" => ModelKind.Stfpm,
                "reversedistillation" => ModelKind.ReverseDistillation,
                _ => throw new ConfigException(
                    $"TrainModels.model.class_path is '{classPath}'; allowed: Padim, Patchcore, Fastflow, Stfpm, "
                        + $"ReverseDistillation."
                ),
            };
            if (model.Mapping("init_args") is { } args)
            {
                Options.ModelSettings.Backbone = args.String("backbone") ?? Options.ModelSettings.Backbone;
                Options.ModelSettings.BackboneWeights = args.String("backbone_weights")
                    ?? Options.ModelSettings.BackboneWeights;
                Options.ModelSettings.Layers = args.Strings("layers") ?? Options.ModelSettings.Layers;
                Options.ModelSettings.NFeatures = args.Int("n_features") ?? Options.ModelSettings.NFeatures;
                Options.ModelSettings.CoresetSamplingRatio = args.Double("coreset_sampling_ratio")
                    ?? Options.ModelSettings.CoresetSamplingRatio;
                Options.ModelSettings.NumNeighbors = args.Int("num_neighbors") ?? Options.ModelSettings.NumNeighbors;
                Options.ModelSettings.LearningRate = args.Double("learning_rate") ?? Options.ModelSettings.LearningRate;
                Options.ModelSettings.FlowSteps = args.Int("flow_steps") ?? Options.ModelSettings.FlowSteps;
                Options.ModelSettings.PreTrained = args.Bool("pre_trained") ?? Options.ModelSettings.PreTrained;
                Options.ModelSettings.BlurSigma = args.Double("blur_sigma") ?? Options.ModelSettings.BlurSigma;
                Options.ModelSettings.HiddenRatio = args.Double("hidden_ratio") ?? Options.ModelSettings.HiddenRatio;
                Options.ModelSettings.Conv3x3Only = args.Bool("conv3x3_only") ?? Options.ModelSettings.Conv3x3Only;
                Options.ModelSettings.ProjectionDimension = args.Int("projection_dimension")
                    ?? Options.ModelSettings.ProjectionDimension;
                Options.ModelSettings.DistanceChunkSize = args.Int("distance_chunk_size")
                    ?? Options.ModelSettings.DistanceChunkSize;
                if (args.Choice("anomaly_map_mode", "add", "multiply") is { } mapMode)
                {
                    Options.ModelSettings.MapMode = mapMode == "add" ? AnomalyMapMode.Add : AnomalyMapMode.Multiply;
                }

                args.RejectUnknown();
            }

            model.RejectUnknown();
        }

        if (train.Mapping("metrics") is { } metrics)
        {
            ImageMetrics = metrics.Strings("image") ?? ImageMetrics.ToList();
            PixelMetrics = metrics.Strings("pixel") ?? PixelMetrics.ToList();
            metrics.RejectUnknown();
        }

        if (train.Mapping("trainer") is { } trainer)
        {
            // Padim and Patchcore fit in one pass; epochs and early stopping apply to the gradient-trained models.
            Options.ModelSettings.MaxEpochs = trainer.Int("max_epochs") ?? Options.ModelSettings.MaxEpochs;
            Options.ModelSettings.ValidationInterval = trainer.Int("check_val_every_n_epoch")
                ?? Options.ModelSettings.ValidationInterval;
            foreach (var callback in trainer.Mappings("callbacks"))
            {
                var callbackClass = callback.String("class_path") ?? string.Empty;
                if (callback.Mapping("init_args") is { } init)
                {
                    var patience = init.Int("patience");
                    var monitor = init.String("monitor");
                    var mode = init.Choice("mode", "min", "max");
                    init.RejectUnknown();
                    if (callbackClass.EndsWith("EarlyStopping", StringComparison.Ordinal))
                    {
                        Options.ModelSettings.EarlyStoppingPatience = patience
                            ?? Options.ModelSettings.EarlyStoppingPatience;
                        Options.ModelSettings.EarlyStoppingMonitor = monitor switch
                        {
                            null => Options.ModelSettings.EarlyStoppingMonitor,
                            "pixel_AUROC" => TrainingMetric.PixelAuroc,
                            "image_AUROC" => TrainingMetric.ImageAuroc,
                            "good_image_loss" => TrainingMetric.GoodImageLoss,
                            _ => throw new ConfigException(
                                $"TrainModels.trainer.callbacks: EarlyStopping monitor is '{monitor}'; allowed: "
                                    + $"pixel_AUROC, image_AUROC, good_image_loss."
                            ),
                        };
                        bool lowerIsBetter = Options.ModelSettings.EarlyStoppingMonitor == TrainingMetric.GoodImageLoss;
                        string fitting = lowerIsBetter ? "min" : "max";
                        if (mode is not null && mode != fitting)
                        {
                            string kind = lowerIsBetter ? "good_image_loss (lower" : "an AUROC (higher";
                            throw new ConfigException(
                                $"TrainModels.trainer.callbacks: EarlyStopping mode '{mode}' does not fit the monitor "
                                    + $"{kind} is better); use mode: {fitting}."
                            );
                        }
                    }
                }

                callback.RejectUnknown();
            }

            trainer.RejectUnknown();
        }

        train.RejectUnknown();
    }
}
