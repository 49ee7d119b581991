using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using System.Threading;
using TiledEnsemble.PostProcessing;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Samples.CustomPipeline;

/// <summary>
/// A post-processor that learns a threshold per tile position from good parts only: the largest score and the largest
/// map value of the position's normal validation tiles, times a margin. Each position's maps and scores are divided by
/// its thresholds, so that 1 means "at the threshold" everywhere; a part is rejected when any position reaches 1.
/// </summary>
public sealed class PositionThresholds : IPostProcessor
{
    /// <summary>Creates the post-processor.</summary>
    /// <param name="margin">Factor on the largest normal value (1: no good validation tile is rejected).</param>
    public PositionThresholds(double margin = 1.0)
    {
        if (!(margin > 0 && double.IsFinite(margin)))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be a positive number.");
        }

        Margin = margin;
        Identity = new StageIdentity(
            "samples.position_thresholds",
            new Dictionary<string, string> { ["margin"] = StageIdentity.Format(margin) }
        );
    }

    /// <summary>Factor on the largest normal value.</summary>
    public double Margin { get; }

    /// <inheritdoc />
    public StageIdentity Identity { get; }

    /// <inheritdoc />
    public bool ProcessesPositions => true;

    /// <inheritdoc />
    public bool ProcessesImages => false;

    /// <inheritdoc />
    public IFittedPostProcessor Calibrate(
        PostProcessingLevel level,
        IEnumerable<CalibrationBatch> validation,
        CancellationToken cancellationToken = default
    )
    {
        if (level != PostProcessingLevel.Position)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "This post-processor works on positions only.");
        }

        double image = double.NegativeInfinity,
            pixel = double.NegativeInfinity;
        foreach (var batch in validation)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var normal = batch.Labels.to_type(ScalarType.Bool).logical_not();
            if (normal.any().item<bool>())
            {
                image = Math.Max(image, batch.Scores[normal].max().item<float>());
                pixel = Math.Max(pixel, batch.Maps[normal].max().item<float>());
            }
        }

        if (double.IsNegativeInfinity(image))
        {
            throw new InvalidOperationException(
                "A position has no normal validation tile: per-position thresholds need good parts."
            );
        }

        return new Fitted(Math.Max(image * Margin, 1e-12), Math.Max(pixel * Margin, 1e-12));
    }

    /// <inheritdoc />
    public IFittedPostProcessor Restore(PostProcessingLevel level, string state)
    {
        try
        {
            using var document = JsonDocument.Parse(state);
            var root = document.RootElement;
            return new Fitted(root.GetProperty("image").GetDouble(), root.GetProperty("pixel").GetDouble());
        }
        catch (Exception exception)
            when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"Not a state of {Identity.Name}: {exception.Message}", exception);
        }
    }

    /// <summary>One position's thresholds, applied by division.</summary>
    private sealed class Fitted : IFittedPostProcessor
    {
        private readonly double _image;
        private readonly double _pixel;

        public Fitted(double image, double pixel)
        {
            _image = image;
            _pixel = pixel;
        }

        public string State =>
            string.Create(CultureInfo.InvariantCulture, $"{{\"image\": {_image:R}, \"pixel\": {_pixel:R}}}");

        public bool Normalizes => false;

        public double? ImageThreshold => 1;

        public double? PixelThreshold => 1;

        public ProcessedPrediction Process(Tensor maps, Tensor scores, Tensor? masks, Tensor? labels)
        {
            using var scope = NewDisposeScope();
            using var image = _image.ToScalar();
            using var pixel = _pixel.ToScalar();
            using var one = 1.ToScalar();
            var outMaps = maps.div(pixel);
            var outScores = scores.div(image);
            return new ProcessedPrediction(
                outMaps.MoveToOuterDisposeScope(),
                outScores.MoveToOuterDisposeScope(),
                outMaps.ge(one).MoveToOuterDisposeScope(),
                outScores.ge(one).MoveToOuterDisposeScope()
            );
        }
    }
}
