using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// What post-processing learned from the validation predictions, in raw model units: score and map ranges and the image
/// and pixel thresholds. Saved with a trained ensemble; the JSON round trip is exact.
/// </summary>
public sealed record PostProcessingStatistics
{
    /// <summary>Smallest validation image score.</summary>
    public required double ImageMin { get; init; }

    /// <summary>Largest validation image score.</summary>
    public required double ImageMax { get; init; }

    /// <summary>Smallest validation anomaly-map pixel.</summary>
    public required double PixelMin { get; init; }

    /// <summary>Largest validation anomaly-map pixel.</summary>
    public required double PixelMax { get; init; }

    /// <summary>Image threshold (raw): a score at or above it is anomalous.</summary>
    public required double ImageThreshold { get; init; }

    /// <summary>Pixel threshold (raw): a map value at or above it is anomalous.</summary>
    public required double PixelThreshold { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serializes to JSON; doubles are written in their shortest round-trippable form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads statistics written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">The JSON is malformed or a value is missing.</exception>
    public static PostProcessingStatistics FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<PostProcessingStatistics>(json, Options)
                ?? throw new FormatException("Post-processing statistics JSON is empty (null).");
        }
        catch (JsonException exception)
        {
            throw new FormatException($"Post-processing statistics JSON is invalid: {exception.Message}", exception);
        }
    }
}
