using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Joining;
using TiledEnsemble.Metrics;
using TiledEnsemble.Prediction;
using TiledEnsemble.Visualization;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Evaluation;

/// <summary>Runs the pipeline over labelled samples and computes image and pixel metrics in bounded memory.</summary>
internal sealed class Evaluator
{
    /// <summary>The image metrics an inspection line reads: the share of defective images caught while rejecting at
    /// most 1 % and 5 % of good ones.</summary>
    internal static readonly (string Key, double Rate)[] OperatingPoints =
    {
        ("image_TPR_at_1pct_FPR", 0.01),
        ("image_TPR_at_5pct_FPR", 0.05),
    };

    private readonly EnsemblePredictor _predictor;
    private readonly EnsemblePipeline _pipeline;
    private readonly EvaluationOptions _options;
    private readonly ILogger _logger;

    public Evaluator(EnsemblePredictor predictor, EvaluationOptions options, ILogger logger)
    {
        _predictor = predictor;
        _pipeline = predictor.Pipeline;
        _options = options;
        _logger = logger;
    }

    public EvaluationResult Run(
        IReadOnlyList<AnomalySample> samples,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        bool original = _options.Resolution == MetricResolution.Original;
        var loader = _predictor.LoaderFor(new LoaderOptions { KeepOriginalMasks = original });
        var byAggregation = ImageScores.Aggregations.Select(_ => new List<float>()).ToArray();
        var pixels = new PixelMetricsAccumulator(fprLimit: _options.AuproFprLimit);
        double pixelTp = 0,
            pixelFp = 0,
            pixelFn = 0;
        var images = new List<ImageResult>();
        var pictures = new List<string>();
        var visualizer = _options.VisualizationDirectory is null
            ? null
            : new Visualizer(_options, _pipeline.Thresholds);
        foreach (var batch in loader.Batches(samples, _predictor.Settings.EvalBatchSize, cancellationToken))
        {
            using (batch)
            {
                using var scope = NewDisposeScope();
                // Models already in memory (the application predicted before) are used; otherwise each is loaded per
                // batch and released, so that evaluation, like training, holds one tile model at a time.
                var raw = _predictor.PredictPositions(batch.Images, makeResident: false);
                foreach (var (start, count) in _pipeline.Chunks(batch.Count))
                {
                    using var output = _pipeline.Finish(raw, start, count, everyAggregation: true);
                    Accumulate(batch, (int)start, output);
                }

                progress?.Report(
                    new EnsembleProgress(EnsembleStage.Evaluating, images.Count, samples.Count, "evaluating")
                );
            }
        }

        // Adds images start.. of the batch, whose output is given, to the metrics and pictures.
        void Accumulate(SampleBatch batch, int start, EnsembleOutput output)
        {
            using var chunkScope = NewDisposeScope();
            long count = output.Maps.shape[0];
            var known = batch.Labels.narrow(0, start, count).ge(Scalars.Zero);
            if (original)
            {
                for (int i = 0; i < count; i++)
                {
                    if (known[i].item<bool>())
                    {
                        // One image's maps at its size on disk at a time: released before the next is upsampled.
                        using var imageScope = NewDisposeScope();
                        var size = batch.OriginalSizes[start + i];
                        var (map, predicted) = InputResolution.Restore(
                            output.Maps[i..(i + 1)],
                            output.Masks[i..(i + 1)],
                            size.Height,
                            size.Width
                        );
                        UpdatePixels(
                            map,
                            predicted,
                            batch.OriginalMasks![start + i].unsqueeze(0).to(output.Maps.device).gt(Scalars.Half)
                        );
                    }
                }
            }
            else if (known.any().item<bool>())
            {
                var truth = batch.Masks.narrow(0, start, count).to(output.Maps.device).gt(Scalars.Half);
                var onDevice = known.to(output.Maps.device);
                UpdatePixels(output.Maps[onDevice], output.Masks[onDevice], truth[onDevice]);
            }

            var aggregated = output.ScoresByAggregation!.cpu();
            for (int a = 0; a < byAggregation.Length; a++)
            {
                byAggregation[a].AddRange(aggregated[a].data<float>().ToArray());
            }

            for (int i = 0; i < count; i++)
            {
                var sample = batch.Samples[start + i];
                var result = new ImageResult(
                    sample.ImagePath,
                    (int)sample.Label,
                    sample.DefectType,
                    output.Scores[i].item<float>(),
                    output.RawScores[i].item<float>(),
                    output.Labels[i].item<bool>()
                );
                images.Add(result);
                if (visualizer is not null)
                {
                    pictures.AddRange(
                        visualizer.Save(
                            sample,
                            result,
                            batch.Images[start + i],
                            batch.Masks[start + i],
                            output.Maps[i],
                            output.Masks[i]
                        )
                    );
                }
            }
        }

        void UpdatePixels(Tensor maps, Tensor predicted, Tensor actual)
        {
            using var pixelScope = NewDisposeScope();
            pixels.Update(maps, actual);
            pixelTp += predicted.logical_and(actual).sum().item<long>();
            pixelFp += predicted.logical_and(actual.logical_not()).sum().item<long>();
            pixelFn += predicted.logical_not().logical_and(actual).sum().item<long>();
        }

        var labelled = images.Where(r => r.GroundTruth >= 0).ToList();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        CurvePoints imageRoc;
        using (var scope = NewDisposeScope())
        {
            var scores = tensor(labelled.Select(r => r.Score).ToArray());
            var labels = tensor(labelled.Select(r => r.GroundTruth == 1).ToArray());
            metrics["image_AUROC"] = labelled.Count == 0 ? double.NaN : AnomalyMetrics.Auroc(scores, labels);
            metrics["image_AUPR"] = labelled.Count == 0 ? double.NaN : AnomalyMetrics.Aupr(scores, labels);
            foreach (var (key, rate) in OperatingPoints)
            {
                metrics[key] = labelled.Count == 0 ? double.NaN : AnomalyMetrics.TprAtFpr(scores, labels, rate);
            }

            imageRoc =
                labelled.Count == 0
                    ? new CurvePoints(Array.Empty<double>(), Array.Empty<double>())
                    : AnomalyMetrics.RocCurve(scores, labels);

            // Image AUROC of every aggregation, from the same predictions (raw scores: normalization is monotonic).
            var isLabelled = images.Select(r => r.GroundTruth >= 0).ToArray();
            for (int a = 0; a < byAggregation.Length; a++)
            {
                var values = byAggregation[a].Where((_, i) => isLabelled[i]).ToArray();
                var name = ImageScores.Name(ImageScores.Aggregations[a]);
                var aggregated = tensor(values);
                metrics[$"image_AUROC_{name}"] =
                    labelled.Count == 0 ? double.NaN : AnomalyMetrics.Auroc(aggregated, labels);
                metrics[$"{OperatingPoints[0].Key}_{name}"] =
                    labelled.Count == 0
                        ? double.NaN
                        : AnomalyMetrics.TprAtFpr(aggregated, labels, OperatingPoints[0].Rate);
            }
        }

        double tp = labelled.Count(r => r.PredictedLabel && r.GroundTruth == 1);
        double fp = labelled.Count(r => r.PredictedLabel && r.GroundTruth == 0);
        double fn = labelled.Count(r => !r.PredictedLabel && r.GroundTruth == 1);
        metrics["image_F1"] = F1(tp, fp, fn);
        metrics["pixel_AUROC"] = pixels.Auroc();
        metrics["pixel_AUPRO"] = pixels.Aupro();
        metrics["pixel_F1"] = F1(pixelTp, pixelFp, pixelFn);
        if (labelled.All(r => r.GroundTruth == 0))
        {
            _logger.LogWarning(
                "No anomalous image among the {Count} labelled test images: AUROC, AUPR and AUPRO are undefined (NaN).",
                labelled.Count
            );
        }

        var result = new EvaluationResult(metrics, images, pictures)
        {
            Curves = new EvaluationCurves(imageRoc, pixels.RocCurve(), pixels.ProCurve(), _options.AuproFprLimit),
        };
        if (_options.ReportDirectory is { } folder)
        {
            var settings = _predictor.Settings;
            var model = _predictor.Definition.Model.Name;
            var about = new List<(string, string)>
            {
                ("run", Path.GetFileName(_predictor.RunDirectory.TrimEnd(Path.DirectorySeparatorChar))),
                ("model", $"{model} on {settings.Backbone} ({string.Join(", ", settings.Layers)})"),
                ("backbone weights", _predictor.BackboneSource),
                ("tiling", _predictor.Grid.ToString()),
                ("stages", string.Join("; ", _predictor.Definition.Stages.Select(s => $"{s.Key}: {s.Value}"))),
                (
                    "images evaluated",
                    $"{images.Count} ({labelled.Count(r => r.GroundTruth == 1)} anomalous, "
                        + $"{labelled.Count(r => r.GroundTruth == 0)} normal)"
                ),
                (
                    "written",
                    DateTimeOffset.Now.ToString(
                        "yyyy-MM-dd HH:mm zzz",
                        System.Globalization.CultureInfo.InvariantCulture
                    )
                ),
            };
            var title = $"Evaluation of {model}, {settings.ImageSize}";
            result = result with
            {
                Report = Report.HtmlReport.Write(folder, result, _options, _pipeline.Thresholds, title, about),
            };
        }

        return result;
    }

    private static double F1(double tp, double fp, double fn) => tp == 0 ? 0 : 2 * tp / ((2 * tp) + fp + fn);
}
