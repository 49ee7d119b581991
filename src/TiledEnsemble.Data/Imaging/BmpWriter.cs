using System;
using System.Buffers.Binary;
using System.IO;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Writes uncompressed BMP files: 24-bit for gray and RGB, 32-bit with an alpha bit mask (BITMAPV4HEADER) for RGBA, so
/// readers keep the alpha channel. SkiaSharp has no BMP encoder.
/// </summary>
internal static class BmpWriter
{
    private const int FileHeaderSize = 14;
    private const int V4HeaderSize = 108;

    /// <summary>Writes interleaved 8-bit samples (row-major, channel-last; 1, 3 or 4 channels; gray is written as
    /// RGB).</summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> samples, int width, int height, int channels)
    {
        if (channels is not (1 or 3 or 4))
        {
            throw new ArgumentException($"BMP needs 1, 3 or 4 channels; got {channels}.", nameof(channels));
        }

        int outChannels = channels == 4 ? 4 : 3;
        int rowBytes = ((width * outChannels) + 3) & ~3;
        int pixelBytes = rowBytes * height;
        int offset = FileHeaderSize + V4HeaderSize;
        var header = new byte[offset];
        header[0] = (byte)'B';
        header[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(2), offset + pixelBytes);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(10), offset);
        var info = header.AsSpan(FileHeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(info, V4HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], width);
        BinaryPrimitives.WriteInt32LittleEndian(info[8..], height);
        BinaryPrimitives.WriteInt16LittleEndian(info[12..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(info[14..], (short)(outChannels * 8));
        // BI_BITFIELDS for RGBA, BI_RGB otherwise.
        BinaryPrimitives.WriteInt32LittleEndian(info[16..], outChannels == 4 ? 3 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(info[20..], pixelBytes);
        BinaryPrimitives.WriteInt32LittleEndian(info[24..], 2835); // 72 dpi
        BinaryPrimitives.WriteInt32LittleEndian(info[28..], 2835);
        if (outChannels == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(info[40..], 0x00FF0000u);
            BinaryPrimitives.WriteUInt32LittleEndian(info[44..], 0x0000FF00u);
            BinaryPrimitives.WriteUInt32LittleEndian(info[48..], 0x000000FFu);
            BinaryPrimitives.WriteUInt32LittleEndian(info[52..], 0xFF000000u);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(info[56..], 0x73524742u); // 'sRGB'
        stream.Write(header);
        var row = new byte[rowBytes];
        for (int y = height - 1; y >= 0; y--)
        {
            Array.Clear(row);
            for (int x = 0; x < width; x++)
            {
                int source = ((y * width) + x) * channels;
                byte r = samples[source],
                    g = channels == 1 ? r : samples[source + 1],
                    b = channels == 1 ? r : samples[source + 2];
                int target = x * outChannels;
                row[target] = b;
                row[target + 1] = g;
                row[target + 2] = r;
                if (outChannels == 4)
                {
                    row[target + 3] = samples[source + 3];
                }
            }

            stream.Write(row);
        }
    }
}
