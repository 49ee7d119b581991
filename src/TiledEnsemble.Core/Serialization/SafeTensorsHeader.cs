using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace TiledEnsemble.Serialization;

/// <summary>
/// The safetensors header, read and checked before any tensor data is touched: its length against the file, the JSON,
/// every entry's fields, dtype and shape (sizes without overflow), and the byte spans (inside the file, contiguous,
/// covering it exactly). Every failure is a <see cref="SafeTensorsException"/> naming the file.
/// </summary>
internal static class SafeTensorsHeader
{
    internal sealed record Entry(string DType, long[] Shape, long Begin, long End);

    public static (Dictionary<string, Entry> Entries, Dictionary<string, string> Metadata, long DataStart) Parse(
        FileStream stream,
        string path
    )
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new SafeTensorsException(
                path,
                $"the file has {fileLength} bytes; at least 8 (the header length) are needed."
            );
        }

        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > SafeTensors.MaxHeaderBytes)
        {
            throw new SafeTensorsException(
                path,
                $"the header claims {headerLength} bytes, more than the {SafeTensors.MaxHeaderBytes} accepted; the "
                    + $"file is not "
                    + $"safetensors or is corrupt."
            );
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw new SafeTensorsException(
                path,
                $"the header claims {headerLength} bytes but only {fileLength - 8} follow (truncated)."
            );
        }

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsException(path, "the header is not a JSON object.");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.GetString() ?? string.Empty;
                    }

                    continue;
                }

                if (entries.ContainsKey(property.Name))
                {
                    throw new SafeTensorsException(path, $"tensor '{property.Name}' is described twice in the header.");
                }

                entries[property.Name] = ParseEntry(property, path, dataLength);
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException)
        {
            throw new SafeTensorsException(path, $"the JSON header is malformed: {exception.Message}");
        }

        // The spec wants the data to be one run of byte spans without holes or overlaps.
        long expected = 0;
        foreach (var (name, entry) in entries.OrderBy(e => e.Value.Begin).ThenBy(e => e.Value.End))
        {
            if (entry.Begin != expected)
            {
                throw new SafeTensorsException(
                    path,
                    $"tensor '{name}' starts at byte {entry.Begin} of the data, but the previous tensor ends at "
                        + $"{expected}: spans must be contiguous without overlap."
                );
            }

            expected = entry.End;
        }

        if (expected != dataLength)
        {
            throw new SafeTensorsException(
                path,
                $"the tensors cover {expected} bytes of data but the file holds {dataLength} (truncated or padded)."
            );
        }

        return (entries, metadata, dataStart);
    }

    private static Entry ParseEntry(JsonProperty property, string path, long dataLength)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsException(
                path,
                $"tensor '{name}' is described by a JSON {value.ValueKind}, not an object."
            );
        }

        JsonElement Field(string key) =>
            value.TryGetProperty(key, out var field)
                ? field
                : throw new SafeTensorsException(
                    path,
                    $"tensor '{name}' has no '{key}'; dtype, shape and data_offsets are required."
                );

        var dtype = Field("dtype").GetString() ?? string.Empty;
        if (!SafeTensors.DTypes.TryGetValue(dtype, out var info))
        {
            throw new SafeTensorsException(
                path,
                $"tensor '{name}' has dtype '{dtype}'; supported: {string.Join(", ", SafeTensors.DTypes.Keys)}."
            );
        }

        var shape = Field("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        if (shape.Any(d => d < 0))
        {
            throw new SafeTensorsException(
                path,
                $"tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}]."
            );
        }

        var offsets = Field("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
        {
            throw new SafeTensorsException(
                path,
                $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes."
            );
        }

        // The product of the dimensions, in bytes, must fit the data it claims: no overflow can pass as a small size.
        long elements = 1;
        foreach (var d in shape)
        {
            if (d != 0 && elements > (long.MaxValue / info.Size) / d)
            {
                throw new SafeTensorsException(
                    path,
                    $"tensor '{name}' has shape [{string.Join(", ", shape)}], whose size overflows 64 bits."
                );
            }

            elements *= d;
        }

        if (offsets[1] - offsets[0] != elements * info.Size)
        {
            throw new SafeTensorsException(
                path,
                $"tensor '{name}' spans {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] of "
                    + $"{dtype} needs {elements * info.Size}."
            );
        }

        return new Entry(dtype, shape, offsets[0], offsets[1]);
    }
}
