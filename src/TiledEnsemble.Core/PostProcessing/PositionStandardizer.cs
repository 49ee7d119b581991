using System;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using TiledEnsemble.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// A position's calibration, applied: maps become <c>(map − mean) / deviation</c> (per position, or per pixel with
/// <see cref="PositionCalibration.PerPixel"/>) and tile scores <c>(score − mean) / deviation</c> with the position's
/// statistics, all learned from good validation tiles of that position. It neither normalizes to [0, 1] nor
/// thresholds: the image level does both, on the joined calibrated maps. Immutable and thread-safe.
/// </summary>
public sealed class PositionStandardizer : IFittedPostProcessor
{
    private readonly float[]? _pixelMeans;
    private readonly float[]? _pixelDeviations;

    internal PositionStandardizer(
        PositionCalibration calibration,
        double mean,
        double deviation,
        long goodTiles,
        int height,
        int width,
        float[]? pixelMeans,
        float[]? pixelDeviations
    )
    {
        Calibration = calibration;
        Mean = mean;
        Deviation = deviation;
        GoodTiles = goodTiles;
        Height = height;
        Width = width;
        _pixelMeans = pixelMeans;
        _pixelDeviations = pixelDeviations;
    }

    /// <summary>Per position or per pixel.</summary>
    public PositionCalibration Calibration { get; }

    /// <summary>The mean of the position's good validation map pixels.</summary>
    public double Mean { get; }

    /// <summary>Their standard deviation (floored above zero).</summary>
    public double Deviation { get; }

    /// <summary>How many good validation tiles the statistics come from.</summary>
    public long GoodTiles { get; }

    /// <summary>The tile maps' height.</summary>
    public int Height { get; }

    /// <summary>The tile maps' width.</summary>
    public int Width { get; }

    /// <inheritdoc />
    public bool Normalizes => false;

    /// <inheritdoc />
    public double? ImageThreshold => null;

    /// <inheritdoc />
    public double? PixelThreshold => null;

    /// <inheritdoc />
    public string State
    {
        get
        {
            var state = new JsonObject
            {
                ["calibration"] = Calibration.ToString(),
                ["mean"] = Mean,
                ["deviation"] = Deviation,
                ["good_tiles"] = GoodTiles,
                ["height"] = Height,
                ["width"] = Width,
            };
            if (_pixelMeans is not null)
            {
                // Base64 of little-endian float32: exact, and a quarter of the size of decimal text.
                state["pixel_means"] = Convert.ToBase64String(MemoryMarshal.AsBytes(_pixelMeans.AsSpan()));
                state["pixel_deviations"] = Convert.ToBase64String(MemoryMarshal.AsBytes(_pixelDeviations!.AsSpan()));
            }

            return state.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }
    }

    /// <inheritdoc />
    public ProcessedPrediction Process(Tensor maps, Tensor scores, Tensor? masks, Tensor? labels)
    {
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, 1, H, W]");
        TensorGuard.NotNull(scores, nameof(scores));
        if (maps.shape[2] != Height || maps.shape[3] != Width)
        {
            throw new ArgumentException(
                $"maps are {TensorGuard.Describe(maps)} but this position was calibrated on {Height}x{Width} tile "
                    + "maps.",
                nameof(maps)
            );
        }

        using var scope = NewDisposeScope();
        using var mean = Mean.ToScalar();
        using var deviation = Deviation.ToScalar();
        Tensor outMaps;
        if (_pixelMeans is not null)
        {
            // Built per call on the maps' device: the standardizer holds no native memory, so it needs no disposal and
            // serves any device; the copy (two tile-sized float arrays) is small beside the model's forward pass.
            var means = tensor(_pixelMeans, new long[] { 1, 1, Height, Width }, device: maps.device);
            var deviations = tensor(_pixelDeviations!, new long[] { 1, 1, Height, Width }, device: maps.device);
            outMaps = maps.to_type(ScalarType.Float32).sub(means).div_(deviations);
        }
        else
        {
            outMaps = maps.to_type(ScalarType.Float32).sub(mean).div_(deviation);
        }

        var outScores = scores.to_type(ScalarType.Float32).sub(mean).div_(deviation);
        return new ProcessedPrediction(
            outMaps.MoveToOuterDisposeScope(),
            outScores.MoveToOuterDisposeScope(),
            masks?.alias().MoveToOuterDisposeScope(),
            labels?.alias().MoveToOuterDisposeScope()
        );
    }

    /// <summary><see cref="Process"/> as ONNX nodes; returns the names of the calibrated maps and scores.</summary>
    internal (string Maps, string Scores) Export(OnnxGraphBuilder g, string maps, string scores, string hint)
    {
        var mean = g.Scalar($"{hint}.mean", (float)Mean);
        var deviation = g.Scalar($"{hint}.deviation", (float)Deviation);
        var outScores = g.Div(g.Sub(scores, mean), deviation);
        if (_pixelMeans is null)
        {
            return (g.Div(g.Sub(maps, mean), deviation), outScores);
        }

        var means = g.Initializer($"{hint}.pixel_means", _pixelMeans, 1, 1, Height, Width);
        var deviations = g.Initializer($"{hint}.pixel_deviations", _pixelDeviations!, 1, 1, Height, Width);
        return (g.Div(g.Sub(maps, means), deviations), outScores);
    }

    /// <summary>Reads a state written by <see cref="State"/>, checking every value (runs come from
    /// strangers).</summary>
    /// <exception cref="FormatException">The state is malformed, or a value is missing, not finite or out of
    /// range.</exception>
    internal static PositionStandardizer FromJson(string json, PositionCalibration expected)
    {
        JsonObject state;
        try
        {
            state = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("The state is not a JSON object.");
        }
        catch (JsonException exception)
        {
            throw new FormatException(
                $"The position calibration state is invalid JSON: {exception.Message}",
                exception
            );
        }

        try
        {
            var calibration = Enum.Parse<PositionCalibration>(Required(state, "calibration").GetValue<string>());
            if (calibration != expected)
            {
                throw new FormatException($"The state was calibrated {calibration}, but the run says {expected}.");
            }

            double mean = Finite(state, "mean");
            double deviation = Finite(state, "deviation");
            long goodTiles = Required(state, "good_tiles").GetValue<long>();
            int height = Required(state, "height").GetValue<int>();
            int width = Required(state, "width").GetValue<int>();
            if (deviation <= 0 || goodTiles < 1 || height < 1 || width < 1 || (long)height * width > 1 << 26)
            {
                throw new FormatException(
                    $"deviation {deviation}, good_tiles {goodTiles} and size {height}x{width} must be positive "
                        + "(and the size at most 2^26 pixels)."
                );
            }

            float[]? means = null,
                deviations = null;
            if (calibration == PositionCalibration.PerPixel)
            {
                means = Pixels(state, "pixel_means", height * width, positive: false);
                deviations = Pixels(state, "pixel_deviations", height * width, positive: true);
            }

            return new PositionStandardizer(calibration, mean, deviation, goodTiles, height, width, means, deviations);
        }
        catch (Exception exception)
            when (exception is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new FormatException($"The position calibration state is invalid: {exception.Message}", exception);
        }
    }

    private static JsonNode Required(JsonObject state, string name) =>
        state[name] ?? throw new FormatException($"The position calibration state lacks '{name}'.");

    private static double Finite(JsonObject state, string name)
    {
        double value = Required(state, name).GetValue<double>();
        return double.IsFinite(value)
            ? value
            : throw new FormatException($"The position calibration's '{name}' is {value}; it must be finite.");
    }

    private static float[] Pixels(JsonObject state, string name, int count, bool positive)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(Required(state, name).GetValue<string>());
        }
        catch (FormatException exception)
        {
            throw new FormatException($"The position calibration's '{name}' is not base64.", exception);
        }

        if (bytes.Length != (long)count * sizeof(float))
        {
            throw new FormatException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"'{name}' holds {bytes.Length} bytes; expected {(long)count * sizeof(float)} ({count} float32)."
                )
            );
        }

        var result = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian || result.Any(v => !float.IsFinite(v) || (positive && v <= 0)))
        {
            throw new FormatException(
                $"'{name}' holds a value that is not finite{(positive ? " or not positive" : "")}."
            );
        }

        return result;
    }
}
