using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Serialization;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// dtype, shape and data offsets (relative to the end of the header), then the raw little-endian data. Nothing in the
/// file is executed. Reading checks every offset and size before touching data, so a malformed or truncated file gives
/// a <see cref="SafeTensorsException"/> that names it, never an out-of-bounds read.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused as absurd (real headers are kilobytes).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    internal static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads every tensor (on the CPU, in its stored dtype) and the metadata.</summary>
    /// <exception cref="SafeTensorsException">The file is malformed or truncated.</exception>
    public static (Dictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        using var stream = Open(path);
        var (entries, metadata, dataStart) = SafeTensorsHeader.Parse(stream, path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, entry) in entries.OrderBy(e => e.Value.Begin))
            {
                stream.Position = dataStart + entry.Begin;
                tensors[name] = Read(stream, entry.DType, entry.Shape);
            }
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return (tensors, metadata);
    }

    /// <summary>
    /// Throws unless every floating-point tensor of <paramref name="tensors"/> is finite: weights of NaN or infinity
    /// would make every score NaN, which no threshold flags.
    /// </summary>
    /// <exception cref="SafeTensorsException">A tensor holds NaN or an infinity; the message names it.</exception>
    public static void RequireFinite(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (tensor.is_floating_point() && tensor.numel() > 0 && !tensor.isfinite().all().item<bool>())
            {
                throw new SafeTensorsException(
                    path,
                    $"tensor '{name}' holds NaN or infinite values; the weights are damaged or were trained into "
                        + "divergence."
                );
            }
        }
    }

    /// <summary>
    /// Writes tensors (moved to the CPU, contiguous) and string metadata. The file is written beside the destination
    /// and renamed over it, so a crash never leaves a half-written file under the final name.
    /// </summary>
    public static void Save(
        string path,
        IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.Select(t =>
        {
            var dtype = DTypes.FirstOrDefault(d => d.Value.Type == t.Value.dtype).Key
                ?? throw new ArgumentException(
                    $"Tensor '{t.Key}' has dtype {t.Value.dtype}, which safetensors writing does not support.",
                    nameof(tensors)
                );
            return new Pending(t.Key, dtype, t.Value.shape, t.Value.numel() * DTypes[dtype].Size, stream =>
                Write(stream, t.Value)
            );
        });
        Save(path, entries, metadata, nameof(tensors));
    }

    /// <summary>
    /// Writes float32 arrays with their shapes, without libtorch (for tools that convert weights at build time);
    /// written beside the destination and renamed over it, as <see cref="Save(string, IReadOnlyDictionary{string,
    /// Tensor}, IReadOnlyDictionary{string, string}?)"/>.
    /// </summary>
    public static void SaveFloat32(
        string path,
        IReadOnlyDictionary<string, (long[] Shape, float[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.Select(t =>
        {
            long count = t.Value.Shape.Aggregate(1L, (a, d) => a * d);
            if (count != t.Value.Data.Length)
            {
                throw new ArgumentException(
                    $"Tensor '{t.Key}' has {t.Value.Data.Length} values for shape "
                        + $"[{string.Join(", ", t.Value.Shape)}].",
                    nameof(tensors)
                );
            }

            return new Pending(t.Key, "F32", t.Value.Shape, count * 4, stream =>
                stream.Write(MemoryMarshal.AsBytes(t.Value.Data.AsSpan()))
            );
        });
        Save(path, entries, metadata, nameof(tensors));
    }

    private static void Save(
        string path,
        IEnumerable<Pending> unordered,
        IReadOnlyDictionary<string, string>? metadata,
        string parameter
    )
    {
        var entries = unordered.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 })
        {
            header["__metadata__"] = metadata.ToDictionary(m => m.Key, m => m.Value);
        }

        long offset = 0;
        foreach (var entry in entries)
        {
            if (entry.Name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", parameter);
            }

            header[entry.Name] = new Dictionary<string, object>
            {
                ["dtype"] = entry.DType,
                ["shape"] = entry.Shape,
                ["data_offsets"] = new[] { offset, offset + entry.Length },
            };
            offset += entry.Length;
        }

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padding = (8 - (json.Length % 8)) % 8;
        AtomicFile.Write(path, stream =>
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
            stream.Write(length);
            stream.Write(json);
            for (int i = 0; i < padding; i++)
            {
                stream.WriteByte((byte)' ');
            }

            foreach (var entry in entries)
            {
                entry.WriteData(stream);
            }
        });
    }

    private static FileStream Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    /// <summary>Elements per chunk when streaming tensor data: keeps spans far below 2 GiB and buffers small.</summary>
    internal static long ChunkBytes = 64L * 1024 * 1024;

    private static Tensor Read(Stream stream, string dtype, long[] shape)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException(
                "Safetensors data is little-endian; big-endian hosts are not supported."
            );
        }

        var (type, size) = DTypes[dtype];
        var result = empty(shape, type);
        try
        {
            using var flat = result.view(-1);
            long total = flat.numel(),
                step = Math.Max(1, ChunkBytes / size);
            var buffer = new byte[Math.Min(total, step) * size];
            for (long start = 0; start < total; start += step)
            {
                long count = Math.Min(step, total - start);
                var span = buffer.AsSpan(0, (int)(count * size));
                stream.ReadExactly(span);
                using var chunk = flat.narrow(0, start, count);
                span.CopyTo(chunk.bytes);
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }

        return result;
    }

    private static void Write(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var flat = tensor.detach().cpu().contiguous().flatten();
        long total = flat.numel(),
            size = flat.ElementSize,
            step = Math.Max(1, ChunkBytes / size);
        for (long start = 0; start < total; start += step)
        {
            using var chunk = flat.narrow(0, start, Math.Min(step, total - start));
            stream.Write(chunk.bytes);
        }
    }

    /// <summary>A tensor about to be written: its header entry and how to write its bytes.</summary>
    private sealed record Pending(string Name, string DType, long[] Shape, long Length, Action<Stream> WriteData);
}
