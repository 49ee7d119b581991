using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// Collects post-processing statistics from validation predictions, batch by batch, in memory that does not grow with
/// the number of pixels: image scores are kept (one number per image), map pixels go into a streaming histogram.
/// </summary>
/// <remarks>
/// F1-adaptive thresholds are undefined without anomalous samples. Then the image threshold falls back to the largest
/// validation score (every validation image is normal, and stays so), and likewise the pixel threshold to the largest
/// map value; without normal samples, to the smallest. Both fallbacks log a warning.
/// </remarks>
public sealed class StatisticsCollector
{
    private readonly List<double> _scores = new();
    private readonly List<bool> _labels = new();
    private readonly List<double> _normalMapMaxima = new();
    private readonly StreamingHistogram _pixels;
    private readonly ILogger _logger;
    private bool _anyMasks;

    /// <summary>Creates a collector.</summary>
    /// <param name="logger">Receives the fallback warnings.</param>
    /// <param name="bins">Histogram bins for the pixel threshold (a power of two).</param>
    public StatisticsCollector(ILogger? logger = null, int bins = 1 << 16)
    {
        _logger = logger ?? NullLogger.Instance;
        _pixels = new StreamingHistogram(bins, 2);
    }

    /// <summary>Images seen so far.</summary>
    public int ImageCount => _scores.Count;

    /// <summary>Adds a batch of validation predictions.</summary>
    /// <param name="scores">[B] raw image scores.</param>
    /// <param name="labels">[B] ground-truth labels (true or 1 is anomalous).</param>
    /// <param name="maps">[B, 1, H, W] raw anomaly maps, or null.</param>
    /// <param name="masks">[B, 1, H, W] ground-truth masks, or null when there are none (all-normal pixels are then
    /// assumed for normal images only).</param>
    public void Update(Tensor scores, Tensor labels, Tensor? maps = null, Tensor? masks = null)
    {
        TensorGuard.Rank(scores, 1, nameof(scores), "[B]");
        TensorGuard.Rank(labels, 1, nameof(labels), "[B]");
        if (scores.shape[0] != labels.shape[0])
        {
            throw new ArgumentException(
                $"scores {TensorGuard.Describe(scores)} and labels {TensorGuard.Describe(labels)} must have the same "
                    + $"length.",
                nameof(labels)
            );
        }

        using var scope = NewDisposeScope();
        var hostScores = scores.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        if (hostScores.Any(double.IsNaN))
        {
            throw new ArgumentException("scores contain NaN; the model produced an undefined score.", nameof(scores));
        }

        var hostLabels = labels.ne(Scalars.Zero).cpu().data<bool>().ToArray();
        if (maps is not null)
        {
            TensorGuard.Rank(maps, 4, nameof(maps), "[B, 1, H, W]");
            if (maps.shape[0] != scores.shape[0])
            {
                throw new ArgumentException(
                    $"maps hold {maps.shape[0]} images but scores {scores.shape[0]}.",
                    nameof(maps)
                );
            }

            // Each normal image's largest map value: what a false-reject pixel threshold is chosen from.
            var maxima = maps.flatten(1).amax(1).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            _normalMapMaxima.AddRange(maxima.Where((_, i) => !hostLabels[i]));

            Tensor truth;
            if (masks is not null)
            {
                _anyMasks = true;
                var (_, g, _, _) = AnomalyMetrics.PixelLayout(maps, masks);
                truth = g.ne(Scalars.Zero).flatten();
            }
            else
            {
                // Without masks only normal images say something certain about pixels: all of theirs are normal.
                var normal = labels.ne(Scalars.Zero).logical_not().to(maps.device);
                maps = maps[normal];
                truth = zeros(maps.numel(), dtype: ScalarType.Bool, device: maps.device);
            }

            // 0/1 weights are exact in float32; the histogram widens them chunk by chunk.
            _pixels.Add(
                maps.flatten(),
                new Tensor?[] { truth.to_type(ScalarType.Float32), truth.logical_not().to_type(ScalarType.Float32) }
            );
        }

        _scores.AddRange(hostScores);
        _labels.AddRange(hostLabels);
    }

    /// <summary>Computes the statistics with F1-adaptive thresholds.</summary>
    /// <exception cref="InvalidOperationException">No image was added.</exception>
    public PostProcessingStatistics Build() => Build(manual: null);

    /// <summary>Computes the statistics; with <paramref name="manual"/>, its thresholds replace the F1-adaptive
    /// ones.</summary>
    /// <exception cref="InvalidOperationException">No image was added.</exception>
    public PostProcessingStatistics Build(ManualThreshold? manual) =>
        Build(manual is null ? ThresholdMethod.F1Adaptive : ThresholdMethod.Manual, manual);

    /// <summary>Computes the statistics with the thresholds of <paramref name="method"/>.</summary>
    /// <param name="method">How the thresholds are chosen.</param>
    /// <param name="manual">The thresholds of <see cref="ThresholdMethod.Manual"/>; null otherwise.</param>
    /// <param name="falseRejectRate">The rate of <see cref="ThresholdMethod.FalseRejectRate"/>.</param>
    /// <exception cref="InvalidOperationException">No image was added, or false-reject thresholds were asked for
    /// without a normal image.</exception>
    public PostProcessingStatistics Build(
        ThresholdMethod method,
        ManualThreshold? manual,
        double falseRejectRate = FalseRejectThreshold.DefaultRate
    )
    {
        if ((method == ThresholdMethod.Manual) != (manual is not null))
        {
            throw new ArgumentException("ThresholdMethod.Manual and manual thresholds go together.", nameof(manual));
        }

        if (_scores.Count == 0)
        {
            throw new InvalidOperationException(
                "No validation predictions were collected; statistics need at least one image."
            );
        }

        manual?.Validate();
        double imageMin = _scores.Min(),
            imageMax = _scores.Max();
        bool havePixels = !double.IsInfinity(_pixels.MinScore);
        double pixelMin = havePixels ? _pixels.MinScore : imageMin;
        double pixelMax = havePixels ? _pixels.MaxScore : imageMax;

        double imageThreshold,
            pixelThreshold;
        if (manual is not null)
        {
            imageThreshold = manual.ToRaw(manual.Image, imageMin, imageMax);
            pixelThreshold = manual.ToRaw(manual.Pixel, pixelMin, pixelMax);
        }
        else if (method == ThresholdMethod.FalseRejectRate)
        {
            (imageThreshold, pixelThreshold) = FalseReject(falseRejectRate, havePixels);
        }
        else
        {
            var s = _scores.ToArray();
            var l = _labels.ToArray();
            var curve = BinaryCurve.Exact(
                s,
                l.Select(x => x ? 1.0 : 0.0).ToArray(),
                l.Select(x => x ? 0.0 : 1.0).ToArray()
            );
            imageThreshold = Adaptive(curve, "image", "image scores");
            if (havePixels)
            {
                if (!_anyMasks)
                {
                    _logger.LogWarning(
                        "No ground-truth masks in the validation data: the pixel threshold is set from normal images "
                            + "only."
                    );
                }

                pixelThreshold = Adaptive(_pixels.ToCurve(0, 1), "pixel", "anomaly-map pixels");
            }
            else
            {
                pixelThreshold = imageThreshold;
            }
        }

        return new PostProcessingStatistics
        {
            ImageMin = imageMin,
            ImageMax = imageMax,
            PixelMin = pixelMin,
            PixelMax = pixelMax,
            ImageThreshold = imageThreshold,
            PixelThreshold = pixelThreshold,
        };
    }

    private (double Image, double Pixel) FalseReject(double rate, bool havePixels)
    {
        var good = _scores.Where((_, i) => !_labels[i]).ToArray();
        if (good.Length == 0)
        {
            throw new InvalidOperationException(
                $"False-reject thresholds are set from good validation images, but all {_scores.Count} validation "
                    + "images are anomalous. Hold out good training images (ValSplitMode.FromTrain)."
            );
        }

        if (good.Length * rate < 1 && rate > 0)
        {
            _logger.LogWarning(
                "{Count} good validation images cannot measure a false-reject rate of {Rate}: at least {Needed} are "
                    + "needed. The thresholds lie just above the highest good values, which rejects none of them.",
                good.Length,
                rate,
                (int)Math.Ceiling(1 / rate)
            );
        }

        var image = FalseRejectThreshold.Compute(good, rate);
        var pixel = havePixels ? FalseRejectThreshold.Compute(_normalMapMaxima, rate) : image;
        _logger.LogInformation(
            "False-reject thresholds from {Count} good validation images: image {Image} (rejects {ImageShare:P1} of "
                + "them), pixel {Pixel} (a masked region on {PixelShare:P1} of them); asked for {Rate:P1}.",
            good.Length,
            image.Threshold,
            image.RejectedShare,
            pixel.Threshold,
            pixel.RejectedShare,
            rate
        );
        return (image.Threshold, pixel.Threshold);
    }

    private double Adaptive(BinaryCurve curve, string level, string what)
    {
        if (curve.TotalPositive <= 0)
        {
            _logger.LogWarning(
                "No anomalous {Level} samples in the validation data: F1 is undefined, so the {Level} threshold "
                    + "falls back to the largest validation value {Value}.",
                level,
                level,
                curve.MaxScore
            );
            return curve.MaxScore;
        }

        if (curve.TotalNegative <= 0)
        {
            _logger.LogWarning(
                "No normal {Level} samples in the validation data: the {Level} threshold falls back to the smallest "
                    + "validation value {Value}.",
                level,
                level,
                curve.MinScore
            );
            return curve.MinScore;
        }

        return curve.BestF1()?.Threshold
            ?? throw new InvalidOperationException($"Could not compute an F1-adaptive threshold from the {what}.");
    }
}
