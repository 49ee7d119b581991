using System;
using System.Buffers.Binary;
using System.IO;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Checks a PNG's chunk layout before a decoder sees it, reading only the chunk headers: IHDR first, of 13 bytes, and
/// only once; at most one PLTE, before the first IDAT; IDAT chunks in one run; nothing but IEND's end after IEND. Files
/// that break these rules are decoded differently by different programs (a second IHDR that disagrees with the first
/// is read by some and ignored by others), so they are refused, naming the rule. Shared as source with
/// TiledEnsemble.OnnxRuntime.
/// </summary>
internal static class PngChunks
{
    private const ulong Signature = 0x89504E470D0A1A0AUL;

    /// <summary>Refuses a PNG whose chunks break the rules above. A file cut short is left to the decoder, which
    /// reports it as truncated.</summary>
    public static void Validate(string path, ImageFileErrors errors)
    {
        using var stream = File.OpenRead(path);
        Span<byte> header = stackalloc byte[8];
        if (stream.Read(header) != 8 || BinaryPrimitives.ReadUInt64BigEndian(header) != Signature)
        {
            return;
        }

        int index = 0;
        bool palette = false,
            data = false,
            dataEnded = false;
        while (stream.Read(header) == 8)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header[4..]);
            if (length > int.MaxValue || !IsChunkType(header[4..]))
            {
                throw errors.Fail(path, $"chunk {index} has an invalid type or length (PNG structure is corrupt).");
            }

            if (index == 0 && (type != "IHDR" || length != 13))
            {
                throw errors.Fail(path, $"the first chunk is {type} of {length} bytes; PNG starts with IHDR of 13.");
            }

            switch (type)
            {
                case "IHDR" when index > 0:
                    throw errors.Fail(path, $"chunk {index} is a second IHDR; a PNG has one header.");
                case "PLTE" when palette || data:
                    throw errors.Fail(path, $"chunk {index} is a PLTE {(palette ? "again" : "after image data")}.");
                case "PLTE":
                    palette = true;
                    break;
                case "IDAT" when dataEnded:
                    throw errors.Fail(path, $"chunk {index} is IDAT after other chunks ended the image data.");
                case "IDAT":
                    data = true;
                    break;
                case "IEND":
                    return;
                default:
                    dataEnded |= data;
                    break;
            }

            // The chunk's data and CRC: skipped, not read (the decoder checks CRCs).
            stream.Seek((long)length + 4, SeekOrigin.Current);
            index++;
        }
    }

    private static bool IsChunkType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
        {
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')))
            {
                return false;
            }
        }

        return true;
    }
}
