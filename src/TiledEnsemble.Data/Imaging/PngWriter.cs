using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Writes PNG files of 8 or 16 bits per channel (gray, RGB, RGBA). SkiaSharp 2.88 encodes 8-bit only, and anomaly maps
/// and 16-bit inspection images need more; the format is simple enough to write directly (filter 0, zlib).
/// </summary>
internal static class PngWriter
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Writes interleaved samples (row-major, channel-last) as a PNG.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="samples">Height·width·channels samples, each in [0, 2^bitDepth − 1].</param>
    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <param name="channels">1 (gray), 3 (RGB) or 4 (RGBA).</param>
    /// <param name="bitDepth">8 or 16.</param>
    public static void Write(
        Stream stream,
        ReadOnlySpan<ushort> samples,
        int width,
        int height,
        int channels,
        int bitDepth
    )
    {
        byte colorType = channels switch
        {
            1 => 0,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentException($"PNG needs 1, 3 or 4 channels; got {channels}.", nameof(channels)),
        };
        if (bitDepth != 8 && bitDepth != 16)
        {
            throw new ArgumentException($"bitDepth must be 8 or 16; got {bitDepth}.", nameof(bitDepth));
        }

        if (samples.Length != (long)width * height * channels)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height * channels} samples for {width}x{height}x{channels}; got "
                    + $"{samples.Length}.",
                nameof(samples)
            );
        }

        stream.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth;
        header[9] = colorType;
        WriteChunk(stream, "IHDR", header);

        int bytesPerSample = bitDepth / 8;
        int rowBytes = 1 + (width * channels * bytesPerSample);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[rowBytes];
            for (int y = 0; y < height; y++)
            {
                row[0] = 0;
                var source = samples.Slice(y * width * channels, width * channels);
                for (int i = 0; i < source.Length; i++)
                {
                    if (bytesPerSample == 1)
                    {
                        row[1 + i] = (byte)source[i];
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(1 + (2 * i)), source[i]);
                    }
                }

                zlib.Write(row);
            }
        }

        WriteChunk(stream, "IDAT", compressed.ToArray());
        WriteChunk(stream, "IEND", Array.Empty<byte>());
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        uint crc = 0xFFFFFFFFu;
        crc = Update(crc, typeBytes);
        crc = Update(crc, data);
        var crcBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc ^ 0xFFFFFFFFu);
        stream.Write(crcBytes);
    }

    private static uint Update(uint crc, byte[] data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
