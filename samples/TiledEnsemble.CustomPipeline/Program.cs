// A pipeline of one's own: a max-over-overlap joiner, a box-filter seam smoother, per-position thresholds learned from
// good parts, and a model written outside the library, composed with the builder, trained, saved, reopened and
// predicted. docs/extending.md walks through it.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging;
using TiledEnsemble;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Samples.CustomPipeline;

var output = args.Length >= 2 && args[0] == "--output" ? args[1] : "custom-pipeline-output";
if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
{
    Console.Error.WriteLine($"--output '{output}' is not empty; choose a new folder (nothing there is overwritten).");
    return 2;
}

using var loggers = LoggerFactory.Create(b =>
    b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
);

// 1. Data: generated fabric with small defects, in the MVTec AD layout.
var data = Path.Combine(output, "data");
DefectDatasetGenerator.Write(
    data,
    new DefectDatasetOptions
    {
        Category = "fabric",
        Texture = TextureKind.WovenFabric,
        ImageSize = 128,
        TrainCount = 16,
        TestGoodCount = 6,
        TestPerDefect = 2,
        DefectAreaFraction = 0.004,
        Seed = 7,
    }
);
var module = AnomalyDataModule.MvtecAD(
    data,
    "fabric",
    loader: new LoaderOptions
    {
        ImageSize = 128,
        TrainBatchSize = 8,
        EvalBatchSize = 8,
    }
);

// 2. The stages of our own, and the model: each stage records its identity in the run.
var joiner = new MaxJoiner();
var smoother = new BoxSeamSmoother(size: 5, halfWidth: 4);
var thresholds = new PositionThresholds(margin: 1.0);
var model = new ModelDefinition(
    MeanFeatureDistanceModel.ModelName,
    context => new MeanFeatureDistanceModel(context.Backbone, context.Device, "layer2"),
    new Dictionary<string, string> { ["layer"] = "layer2" }
);

using var ensemble = TiledEnsembleBuilder
    .Create()
    .WithImageSize(128)
    .WithTiling(tileSize: 64, stride: 32)
    .WithModel(model)
    .WithJoiner(joiner)
    .WithSeamSmoother(smoother)
    .WithPostProcessor(thresholds)
    .WithSeed(7)
    .WithBatchSizes(8, 8)
    .WithLogging(loggers)
    .Build();
Console.WriteLine($"Pipeline: {ensemble.Grid}");
foreach (var (role, identity) in ensemble.Definition.Stages)
{
    Console.WriteLine($"  {role, -15} {identity}");
}

// 3. Train and evaluate.
var run = Path.Combine(output, "run");
var fit = await ensemble.FitAsync(module, run);
Console.WriteLine($"Trained {fit.PositionsTrained} positions in {fit.Duration.TotalSeconds:F1} s into {run}");
var evaluation = await ensemble.EvaluateAsync(module.Test);
foreach (var name in new[] { "image_AUROC", "image_F1", "pixel_AUROC", "pixel_AUPRO" })
{
    Console.WriteLine($"  {name, -12} {evaluation.Metrics[name]:F4}");
}

// 4. Reopen the run: the stages of our own must be given, and are checked against what the run recorded.
try
{
    using var refused = EnsemblePredictor.Load(run);
    Console.Error.WriteLine("The run opened without its stages; it should have been refused.");
    return 1;
}
catch (StageMismatchException expected)
{
    Console.WriteLine($"Opening without its stages is refused: {expected.Message}");
}

using var reopened = EnsemblePredictor.Load(
    run,
    new EnsembleLoadOptions
    {
        Joiner = joiner,
        SeamSmoother = smoother,
        PostProcessor = thresholds,
        Model = model,
        Loggers = loggers,
    }
);

// 5. The reopened run predicts exactly what the trained ensemble predicts.
var image = module.Test.First(s => s.Label == SampleLabel.Anomalous).ImagePath;
using var before = ensemble.Predict(image);
using var after = reopened.Predict(image);
bool same = before.Score == after.Score && before.Label == after.Label && SameMaps(before, after);
Console.WriteLine(
    $"{Path.GetFileName(image)}: score {after.Score:F3} (1 = the threshold of its worst position), "
        + $"label {(after.Label ? "anomalous" : "normal")}, {after.Boxes.Count} box(es); reopened run "
        + $"{(same ? "identical" : "DIFFERENT")}"
);
return same ? 0 : 1;

static bool SameMaps(TiledEnsemble.Prediction.ImagePrediction a, TiledEnsemble.Prediction.ImagePrediction b)
{
    using var scope = TorchSharp.torch.NewDisposeScope();
    return a.AnomalyMap.shape.SequenceEqual(b.AnomalyMap.shape) && a.AnomalyMap.eq(b.AnomalyMap).all().item<bool>();
}
