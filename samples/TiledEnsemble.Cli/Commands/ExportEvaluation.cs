using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Deployment;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Metrics;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Commands;

/// <summary>
/// <c>eval</c> on an exported ensemble: every test image predicted with ONNX Runtime, at its size on disk, and the
/// metrics computed from those predictions as for a run (image AUROC, AUPR, F1, TPR at 1 % and 5 % FPR; pixel AUROC,
/// AUPRO, F1). The labels and masks are the export's, from the training thresholds; with
/// <c>--recompute-thresholds</c> (quadra's <c>use_training_threshold: false</c>) the image threshold is the F1-best one
/// over the evaluated raw scores and the pixel threshold the F1-best one over the evaluated maps, and the F1 values and
/// labels follow them.
/// </summary>
internal static class ExportEvaluation
{
    /// <summary>The metrics, every image's result and the thresholds used (on the raw-score and map scales).</summary>
    public static (Dictionary<string, double> Metrics, List<ImageResult> Images, string Thresholds) Run(
        DeployedEnsemble deployed,
        IReadOnlyList<AnomalySample> samples,
        bool recompute,
        IProgress<EnsembleProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var pixels = new PixelMetricsAccumulator(threshold: deployed.PixelThreshold);
        var images = new List<(AnomalySample Sample, DeployedPrediction Prediction)>();
        int done = 0;
        foreach (var sample in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var prediction = deployed.Predict(sample.ImagePath);
            images.Add((sample, prediction));
            if (sample.Label != SampleLabel.Unknown)
            {
                using var scope = NewDisposeScope();
                var map = tensor(prediction.AnomalyMap, new long[] { 1, 1, prediction.Height, prediction.Width });
                var truth = sample.MaskPath is { } maskPath
                    ? ImageIO
                        .ReadMask(maskPath, deployed.MaxInputSide, deployed.MaxInputPixels)
                        .unsqueeze(0)
                        .to_type(ScalarType.Bool)
                    : zeros(new long[] { 1, 1, prediction.Height, prediction.Width }, ScalarType.Bool);
                if (truth.shape[2] != prediction.Height || truth.shape[3] != prediction.Width)
                {
                    throw new InvalidOperationException(
                        $"The mask '{sample.MaskPath}' is {truth.shape[3]}x{truth.shape[2]} but its image "
                            + $"'{sample.ImagePath}' is {prediction.Width}x{prediction.Height}."
                    );
                }

                pixels.Update(map, truth);
            }

            progress?.Report(new EnsembleProgress(EnsembleStage.Evaluating, ++done, samples.Count, "evaluating"));
        }

        var labelled = images.Where(i => i.Sample.Label != SampleLabel.Unknown).ToList();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        double? imageThreshold = null;
        using (var scope = NewDisposeScope())
        {
            var raw = tensor(labelled.Select(i => i.Prediction.RawScore).ToArray());
            var truth = tensor(labelled.Select(i => i.Sample.Label == SampleLabel.Anomalous).ToArray());
            bool both =
                labelled.Any(i => i.Sample.Label == SampleLabel.Anomalous)
                && labelled.Any(i => i.Sample.Label == SampleLabel.Normal);
            metrics["image_AUROC"] = both ? AnomalyMetrics.Auroc(raw, truth) : double.NaN;
            metrics["image_AUPR"] = both ? AnomalyMetrics.Aupr(raw, truth) : double.NaN;
            metrics["image_TPR_at_1pct_FPR"] = both ? AnomalyMetrics.TprAtFpr(raw, truth, 0.01) : double.NaN;
            metrics["image_TPR_at_5pct_FPR"] = both ? AnomalyMetrics.TprAtFpr(raw, truth, 0.05) : double.NaN;
            if (recompute)
            {
                imageThreshold = AnomalyMetrics.F1AdaptiveThreshold(raw, truth)?.Threshold;
            }
        }

        bool Label(DeployedPrediction p) => imageThreshold is { } t ? p.RawScore >= t : p.Label;
        double tp = labelled.Count(i => Label(i.Prediction) && i.Sample.Label == SampleLabel.Anomalous);
        double fp = labelled.Count(i => Label(i.Prediction) && i.Sample.Label == SampleLabel.Normal);
        double fn = labelled.Count(i => !Label(i.Prediction) && i.Sample.Label == SampleLabel.Anomalous);
        metrics["image_F1"] = tp == 0 ? 0 : 2 * tp / ((2 * tp) + fp + fn);
        metrics["pixel_AUROC"] = pixels.Auroc();
        metrics["pixel_AUPRO"] = pixels.Aupro();
        var best = recompute ? pixels.BestF1() : null;
        metrics["pixel_F1"] = best?.F1 ?? (pixels.Threshold is null ? double.NaN : pixels.F1());

        var results = images
            .Select(i => new ImageResult(
                i.Sample.ImagePath,
                (int)i.Sample.Label,
                i.Sample.DefectType,
                i.Prediction.Score,
                i.Prediction.RawScore,
                Label(i.Prediction)
            ))
            .ToList();
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        string thresholds = recompute
            ? string.Create(
                culture,
                $"thresholds recomputed on the evaluated images: image {imageThreshold:R} (raw score), pixel "
                    + $"{best?.Threshold:R} (map)"
            )
            : string.Create(
                culture,
                $"the training thresholds: image {deployed.ImageThreshold:R}, pixel {deployed.PixelThreshold:R}"
            );
        return (metrics, results, thresholds);
    }
}
