using System;
using TiledEnsemble.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// What <see cref="PostProcessor"/> learned for one level, applied: normalizes scores and maps (each with its own range
/// and threshold) and turns raw values into labels and masks. Immutable and thread-safe; works on the input's device.
/// </summary>
public sealed class CalibratedPostProcessor : IFittedPostProcessor
{
    /// <summary>Creates a calibrated post-processor.</summary>
    /// <param name="statistics">Ranges and raw thresholds.</param>
    /// <param name="method">The normalization formula.</param>
    /// <param name="normalizes">Whether <see cref="Process"/> normalizes maps and scores.</param>
    /// <param name="thresholds">Whether <see cref="Process"/> makes masks and labels.</param>
    public CalibratedPostProcessor(
        PostProcessingStatistics statistics,
        NormalizationMethod method = NormalizationMethod.MinMax,
        bool normalizes = true,
        bool thresholds = true
    )
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (!Enum.IsDefined(method))
        {
            throw new ArgumentException($"Unknown normalization method {(int)method}.", nameof(method));
        }

        Statistics = statistics;
        Method = method;
        Normalizes = normalizes;
        Thresholds = thresholds;
    }

    /// <inheritdoc />
    public bool Normalizes { get; }

    /// <summary>Whether <see cref="Process"/> thresholds.</summary>
    public bool Thresholds { get; }

    /// <inheritdoc />
    public string State => Statistics.ToJson();

    /// <inheritdoc />
    public double? ImageThreshold =>
        !Thresholds ? null
        : Normalizes ? NormalizedThreshold
        : Statistics.ImageThreshold;

    /// <inheritdoc />
    public double? PixelThreshold =>
        !Thresholds ? null
        : Normalizes ? NormalizedThreshold
        : Statistics.PixelThreshold;

    /// <inheritdoc />
    public ProcessedPrediction Process(Tensor maps, Tensor scores, Tensor? masks, Tensor? labels)
    {
        TensorGuard.NotNull(maps, nameof(maps));
        TensorGuard.NotNull(scores, nameof(scores));
        using var scope = NewDisposeScope();

        // Thresholds apply to the raw values; normalization maps them to the normalized threshold.
        var outMasks = Thresholds ? MasksFromRawMaps(maps) : masks?.alias();
        var outLabels = Thresholds ? LabelsFromRawScores(scores) : labels?.alias();
        var outMaps = Normalizes ? NormalizeMaps(maps) : maps.alias();
        var outScores = Normalizes ? NormalizeScores(scores) : scores.alias();
        return new ProcessedPrediction(
            outMaps.MoveToOuterDisposeScope(),
            outScores.MoveToOuterDisposeScope(),
            outMasks?.MoveToOuterDisposeScope(),
            outLabels?.MoveToOuterDisposeScope()
        );
    }

    /// <summary>The statistics in use.</summary>
    public PostProcessingStatistics Statistics { get; }

    /// <summary>The normalization in use.</summary>
    public NormalizationMethod Method { get; }

    /// <summary>
    /// <see cref="Process"/> as ONNX nodes (float32 constants, as libtorch applies the statistics to float32 values);
    /// returns the names of the maps, scores, masks and labels (the ones given where this level does not threshold).
    /// </summary>
    internal (string Maps, string Scores, string? Masks, string? Labels) Export(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        string maps,
        string scores,
        string? masks,
        string? labels,
        string hint
    )
    {
        var s = Statistics;
        if (Thresholds)
        {
            masks = g.GreaterOrEqual(maps, g.Scalar($"{hint}.pixel_threshold", (float)s.PixelThreshold));
            labels = g.GreaterOrEqual(scores, g.Scalar($"{hint}.image_threshold", (float)s.ImageThreshold));
        }

        if (Normalizes)
        {
            maps = ExportNormalize(g, maps, s.PixelThreshold, s.PixelMin, s.PixelMax, $"{hint}.pixel");
            scores = ExportNormalize(g, scores, s.ImageThreshold, s.ImageMin, s.ImageMax, $"{hint}.image");
        }

        return (maps, scores, masks, labels);
    }

    private string ExportNormalize(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        string values,
        double threshold,
        double min,
        double max,
        string hint
    )
    {
        if (Method == NormalizationMethod.MinMax)
        {
            double range = max > min ? max - min : 1e-12;
            var shifted = g.Sub(values, g.Scalar($"{hint}.threshold", (float)threshold));
            var scaled = g.Add(g.Div(shifted, g.Scalar($"{hint}.range", (float)range)), g.Scalar($"{hint}.half", 0.5f));
            return g.Clip(scaled, g.Scalar($"{hint}.zero", 0f), g.Scalar($"{hint}.one", 1f));
        }

        double scale = threshold > min ? threshold - min : (max > min ? max - min : 1e-12);
        var fromMin = g.Sub(values, g.Scalar($"{hint}.min", (float)min));
        var multiplied = g.Mul(fromMin, g.Scalar($"{hint}.factor", (float)(100 / scale)));
        return g.Clip(multiplied, g.Scalar($"{hint}.zero", 0f), g.Scalar($"{hint}.ceiling", 1000f));
    }

    /// <summary>Where the thresholds land after normalization: 0.5 (MinMax) or 100 (Quadra).</summary>
    public double NormalizedThreshold => NormalizedThresholdOf(Method);

    /// <summary>Where <paramref name="method"/> puts the thresholds: 0.5 (MinMax) or 100 (Quadra).</summary>
    public static double NormalizedThresholdOf(NormalizationMethod method) =>
        method == NormalizationMethod.MinMax ? 0.5 : 100;

    /// <summary>Normalized image scores.</summary>
    public Tensor NormalizeScores(Tensor scores) =>
        Normalize(scores, Statistics.ImageThreshold, Statistics.ImageMin, Statistics.ImageMax, nameof(scores));

    /// <summary>Normalized anomaly maps.</summary>
    public Tensor NormalizeMaps(Tensor maps) =>
        Normalize(maps, Statistics.PixelThreshold, Statistics.PixelMin, Statistics.PixelMax, nameof(maps));

    /// <summary>Image labels from raw scores: <c>score ≥ image threshold</c>.</summary>
    public Tensor LabelsFromRawScores(Tensor scores)
    {
        TensorGuard.NotNull(scores, nameof(scores));
        using var threshold = Statistics.ImageThreshold.ToScalar();
        return scores.ge(threshold);
    }

    /// <summary>Pixel masks from raw maps: <c>value ≥ pixel threshold</c>.</summary>
    public Tensor MasksFromRawMaps(Tensor maps)
    {
        TensorGuard.NotNull(maps, nameof(maps));
        using var threshold = Statistics.PixelThreshold.ToScalar();
        return maps.ge(threshold);
    }

    private Tensor Normalize(Tensor values, double threshold, double min, double max, string name)
    {
        TensorGuard.NotNull(values, name);
        TensorGuard.FloatingPoint(values, name);
        using var scope = NewDisposeScope();
        Tensor result;
        if (Method == NormalizationMethod.MinMax)
        {
            // A degenerate range (all validation values equal) still separates below, at and above the threshold.
            double range = max > min ? max - min : 1e-12;
            using var shift = threshold.ToScalar();
            using var divisor = range.ToScalar();
            // One new tensor, the rest in place: for full-resolution maps every allocation is a large block.
            result = values.sub(shift).div_(divisor).add_(Scalars.Half, Scalars.One).clamp_(Scalars.Zero, Scalars.One);
        }
        else
        {
            double scale = threshold > min ? threshold - min : (max > min ? max - min : 1e-12);
            using var shift = min.ToScalar();
            using var factor = (100 / scale).ToScalar();
            using var ceiling = 1000L.ToScalar();
            result = values.sub(shift).mul_(factor).clamp_(Scalars.Zero, ceiling);
        }

        return result.MoveToOuterDisposeScope();
    }
}
