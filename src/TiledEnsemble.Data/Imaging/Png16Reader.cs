using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Decodes non-interlaced 16-bit PNG files exactly. SkiaSharp 2.88 decodes 16-bit PNGs only to half floats (11
/// significant bits), which would throw away the precision 16-bit inspection images are taken for.
/// </summary>
internal static class Png16Reader
{
    /// <summary>Returns RGBA samples in [0, 1] (H·W·4), the size, the stored channel count, or null for interlaced
    /// files.</summary>
    public static (float[] Samples, int Width, int Height, int Channels)? TryRead(string path, ImageFileErrors errors)
    {
        var bytes = File.ReadAllBytes(path);
        int position = 8;
        int width = 0,
            height = 0,
            colorType = -1;
        using var idat = new MemoryStream();
        bool end = false;
        while (position + 8 <= bytes.Length && !end)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position));
            var type = Encoding.ASCII.GetString(bytes, position + 4, 4);
            if (length < 0 || position + 12L + length > bytes.Length)
            {
                throw errors.Fail(
                    path,
                    $"the PNG chunk '{type}' at byte {position} runs past the end of the file (truncated)."
                );
            }

            var data = bytes.AsSpan(position + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    colorType = data[9];
                    if (data[12] != 0)
                    {
                        return null;
                    }

                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    end = true;
                    break;
            }

            position += 12 + length;
        }

        if (!end)
        {
            throw errors.Fail(path, "the PNG has no IEND chunk (truncated).");
        }

        int channels = colorType switch
        {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            _ => throw errors.Fail(path, $"unsupported 16-bit PNG colour type {colorType}."),
        };
        int bytesPerPixel = channels * 2;
        if ((long)width * bytesPerPixel > Array.MaxLength)
        {
            throw errors.Fail(path, $"a row of {width} pixels of {bytesPerPixel} bytes is too long to decode.");
        }

        int stride = width * bytesPerPixel;

        // Rows go straight into the samples: a whole-image byte buffer of a 16384² RGBA file passes 2 GiB, the
        // largest array .NET allocates, and its offsets pass int.
        var samples = new float[(long)width * height * 4];
        idat.Position = 0;
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            var previous = new byte[stride];
            var current = new byte[stride];
            for (int y = 0; y < height; y++)
            {
                int filter = ReadFilter(zlib);
                if (filter < 0 || !ReadExactly(zlib, current))
                {
                    throw errors.Fail(
                        path,
                        $"the PNG image data ends, or its compression is corrupt, at row {y} of {height}."
                    );
                }

                Unfilter(filter, current, previous, bytesPerPixel, path, errors);
                WriteRow(current, channels, samples, (long)y * width);
                (previous, current) = (current, previous);
            }
        }

        return (samples, width, height, channels == 2 ? 4 : channels);
    }

    /// <summary>One unfiltered row of big-endian 16-bit samples as RGBA floats from pixel <paramref name="first"/>
    /// on.</summary>
    private static void WriteRow(byte[] row, int channels, float[] samples, long first)
    {
        int bytesPerPixel = channels * 2;
        for (int x = 0; x < row.Length / bytesPerPixel; x++)
        {
            int start = x * bytesPerPixel;
            float Sample(int c) => BinaryPrimitives.ReadUInt16BigEndian(row.AsSpan(start + (2 * c))) / 65535f;
            float r,
                g,
                b,
                a = 1;
            switch (channels)
            {
                case 1:
                    r = g = b = Sample(0);
                    break;
                case 2:
                    r = g = b = Sample(0);
                    a = Sample(1);
                    break;
                default:
                    r = Sample(0);
                    g = Sample(1);
                    b = Sample(2);
                    if (channels == 4)
                    {
                        a = Sample(3);
                    }

                    break;
            }

            long p = (first + x) * 4;
            samples[p] = r;
            samples[p + 1] = g;
            samples[p + 2] = b;
            samples[p + 3] = a;
        }
    }

    /// <summary>A row's filter byte, or -1 where the data ends or its compression is corrupt (reported as truncated by
    /// the caller, as <see cref="ReadExactly"/>'s failures are).</summary>
    private static int ReadFilter(Stream stream)
    {
        try
        {
            return stream.ReadByte();
        }
        catch (InvalidDataException)
        {
            return -1;
        }
    }

    private static bool ReadExactly(Stream stream, byte[] buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    private static void Unfilter(int filter, byte[] row, byte[] previous, int bpp, string path, ImageFileErrors errors)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0,
                up = previous[i],
                upLeft = i >= bpp ? previous[i - bpp] : 0;
            row[i] = filter switch
            {
                0 => row[i],
                1 => (byte)(row[i] + left),
                2 => (byte)(row[i] + up),
                3 => (byte)(row[i] + ((left + up) / 2)),
                4 => (byte)(row[i] + Paeth(left, up, upLeft)),
                _ => throw errors.Fail(path, $"unknown PNG filter type {filter}."),
            };
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c,
            pa = Math.Abs(p - a),
            pb = Math.Abs(p - b),
            pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a
            : pb <= pc ? b
            : c;
    }
}
