using System;
using System.IO;
using BitMiracle.LibTiff.Classic;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Reads TIFF files as line cameras write them, through LibTiff.NET: 8 or 16 bits per sample, gray (either
/// photometric) or RGB, with or without alpha, in strips or tiles, interleaved or planar, any compression LibTiff
/// decodes. The first image of the file is read. Sizes are checked from the tags before any pixel is allocated.
/// Shared as source with TiledEnsemble.OnnxRuntime.
/// </summary>
internal static class TiffReader
{
    private static readonly object HandlerLock = new();
    private static bool _handlerSet;

    /// <summary>Whether the file starts with a TIFF signature (classic or BigTIFF, either byte order). Call after
    /// <see cref="ImageFiles.CheckFile"/>: it opens the file.</summary>
    public static bool IsTiff(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        if (stream.Read(head) < 4)
        {
            return false;
        }

        bool little = head[0] == 'I' && head[1] == 'I' && head[3] == 0 && head[2] is 42 or 43;
        bool big = head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] is 42 or 43;
        return little || big;
    }

    /// <summary>The image's stored width and height and its orientation (1–8), from its tags.</summary>
    public static (int Width, int Height, int Origin) ReadSize(string path, ImageFileErrors errors)
    {
        using var stream = File.OpenRead(path);
        using var tiff = Open(path, stream, errors);
        var (width, height) = Size(tiff, path, errors);
        return (width, height, Field(tiff, TiffTag.ORIENTATION, 1));
    }

    /// <summary>
    /// Decodes the first image as RGBA floats in [0, 1] (gray repeated in R, G and B; alpha 1 where the file has none)
    /// and the channels the file stores (1 gray, 3 RGB, 4 RGBA; gray with alpha counts as gray), as stored: the
    /// orientation tag (1–8) is returned for the caller to apply.
    /// </summary>
    public static (float[] Samples, int Width, int Height, int Channels, int Origin) Read(
        string path,
        int maxSide,
        long maxPixels,
        ImageFileErrors errors
    )
    {
        using var stream = File.OpenRead(path);
        using var tiff = Open(path, stream, errors);
        var (width, height) = Size(tiff, path, errors);
        ImageFiles.EnsureWithin(path, width, height, maxSide, maxPixels, errors);

        var layout = Layout.Of(tiff, path, errors);

        var samples = new float[(long)width * height * 4];
        if (layout.Alpha < 0)
        {
            for (long i = 3; i < samples.Length; i += 4)
            {
                samples[i] = 1;
            }
        }

        bool tiled = Call(tiff.IsTiled, path, errors);
        var target = new Target(tiff, layout, width, height, samples, path, errors);
        for (int plane = 0; plane < layout.Planes; plane++)
        {
            if (tiled)
            {
                ReadTiles(target, plane);
            }
            else
            {
                ReadStrips(target, plane);
            }
        }

        int channels =
            layout.Gray ? 1
            : layout.Alpha >= 0 ? 4
            : 3;
        return (samples, width, height, channels, Field(tiff, TiffTag.ORIENTATION, 1));
    }

    private static void ReadStrips(Target target, int plane)
    {
        var (tiff, layout, width, height, samples, path, errors) = target;
        var line = new byte[Call(tiff.ScanlineSize, path, errors)];
        if (line.Length < (long)width * layout.PerPixel * layout.Bytes)
        {
            throw errors.Fail(path, $"a scanline of {line.Length} bytes cannot hold {width} pixels.");
        }

        for (int row = 0; row < height; row++)
        {
            int current = row;
            if (!Call(() => tiff.ReadScanline(line, current, (short)plane), path, errors))
            {
                throw Failure(errors, path, $"row {row} cannot be read");
            }

            for (int column = 0; column < width; column++)
            {
                Store(layout, plane, line, column * layout.PerPixel, samples, ((long)row * width) + column);
            }
        }
    }

    private static void ReadTiles(Target target, int plane)
    {
        var (tiff, layout, width, height, samples, path, errors) = target;
        int tileWidth = Field(tiff, TiffTag.TILEWIDTH, 0),
            tileHeight = Field(tiff, TiffTag.TILELENGTH, 0);
        var tile = new byte[Call(tiff.TileSize, path, errors)];
        if (
            tileWidth <= 0
            || tileHeight <= 0
            || tile.Length < (long)tileWidth * tileHeight * layout.PerPixel * layout.Bytes
        )
        {
            throw errors.Fail(path, $"tiles of {tileWidth}x{tileHeight} in {tile.Length} bytes are inconsistent.");
        }

        for (int y = 0; y < height; y += tileHeight)
        {
            for (int x = 0; x < width; x += tileWidth)
            {
                int left = x,
                    top = y;
                if (Call(() => tiff.ReadTile(tile, 0, left, top, 0, (short)plane), path, errors) < 0)
                {
                    throw Failure(errors, path, $"the tile at ({x}, {y}) cannot be read");
                }

                for (int row = 0; row < Math.Min(tileHeight, height - y); row++)
                {
                    for (int column = 0; column < Math.Min(tileWidth, width - x); column++)
                    {
                        int offset = ((row * tileWidth) + column) * layout.PerPixel;
                        Store(layout, plane, tile, offset, samples, ((long)(y + row) * width) + x + column);
                    }
                }
            }
        }
    }

    /// <summary>Stores one pixel's samples (those of <paramref name="plane"/> when planar) into RGBA.</summary>
    private static void Store(Layout layout, int plane, byte[] buffer, int first, float[] samples, long pixel)
    {
        for (int k = 0; k < layout.PerPixel; k++)
        {
            int sample = layout.Planes > 1 ? plane : k;
            int index = first + k;
            float value = layout.Bytes == 1 ? buffer[index] / 255f : BitConverter.ToUInt16(buffer, index * 2) / 65535f;
            if (sample == layout.Alpha)
            {
                samples[(pixel * 4) + 3] = value;
            }
            else if (layout.Gray && sample == 0)
            {
                float gray = layout.WhiteIsZero ? 1 - value : value;
                samples[pixel * 4] = gray;
                samples[(pixel * 4) + 1] = gray;
                samples[(pixel * 4) + 2] = gray;
            }
            else if (!layout.Gray && sample < 3)
            {
                samples[(pixel * 4) + sample] = value;
            }
        }
    }

    private static Tiff Open(string path, Stream stream, ImageFileErrors errors)
    {
        QuietLibTiff();
        TiffErrors.Last = null;
        return Call(() => Tiff.ClientOpen(path, "r", stream, new TiffStream()), path, errors)
            ?? throw Failure(errors, path, "the TIFF header or first directory cannot be read");
    }

    /// <summary>
    /// Calls LibTiff.NET: it reports most damage through its error handler, but some as exceptions of its own, which
    /// become the caller's decode error.
    /// </summary>
    private static T Call<T>(Func<T> read, string path, ImageFileErrors errors)
    {
        try
        {
            return read();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            throw errors.Undecodable(path, $"the TIFF data is corrupt ({exception.Message}).", exception);
        }
    }

    private static (int Width, int Height) Size(Tiff tiff, string path, ImageFileErrors errors)
    {
        int width = Field(tiff, TiffTag.IMAGEWIDTH, 0),
            height = Field(tiff, TiffTag.IMAGELENGTH, 0);
        if (width <= 0 || height <= 0)
        {
            throw errors.Fail(path, "the image has zero width or height.");
        }

        return (width, height);
    }

    /// <summary>A tag's first value; <paramref name="fallback"/> when it is absent or unreadable, which the callers'
    /// checks then refuse with a message of their own.</summary>
    private static int Field(Tiff tiff, TiffTag tag, int fallback)
    {
        try
        {
            return (tiff.GetField(tag) ?? tiff.GetFieldDefaulted(tag)) is { Length: > 0 } values
                ? values[0].ToInt()
                : fallback;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return fallback;
        }
    }

    private static Exception Failure(ImageFileErrors errors, string path, string what) =>
        errors.Fail(path, TiffErrors.Last is { } detail ? $"{what} ({detail})." : $"{what}.");

    /// <summary>Sends LibTiff.NET's messages to <see cref="TiffErrors"/> instead of the console, once per
    /// process.</summary>
    private static void QuietLibTiff()
    {
        lock (HandlerLock)
        {
            if (!_handlerSet)
            {
                Tiff.SetErrorHandler(new TiffErrors());
                _handlerSet = true;
            }
        }
    }

    /// <summary>An open file being decoded into <paramref name="Samples"/> (RGBA floats of Width × Height).</summary>
    private sealed record Target(
        Tiff Tiff,
        Layout Layout,
        int Width,
        int Height,
        float[] Samples,
        string Path,
        ImageFileErrors Errors
    );

    /// <summary>The sample layout of the first image, checked against what is supported.</summary>
    private sealed record Layout(int Bytes, int PerPixel, int Planes, bool Gray, bool WhiteIsZero, int Alpha)
    {
        public static Layout Of(Tiff tiff, string path, ImageFileErrors errors)
        {
            int bits = Field(tiff, TiffTag.BITSPERSAMPLE, 1),
                perPixel = Field(tiff, TiffTag.SAMPLESPERPIXEL, 1),
                format = Field(tiff, TiffTag.SAMPLEFORMAT, (int)SampleFormat.UINT);
            var photometric = (Photometric)Field(tiff, TiffTag.PHOTOMETRIC, -1);
            bool planar = Field(tiff, TiffTag.PLANARCONFIG, (int)PlanarConfig.CONTIG) == (int)PlanarConfig.SEPARATE;
            if (bits is not (8 or 16) || format != (int)SampleFormat.UINT)
            {
                throw errors.Fail(
                    path,
                    $"{bits}-bit samples of format {(SampleFormat)format} are not supported (8 or 16-bit unsigned)."
                );
            }

            bool gray = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE;
            if (!(gray && perPixel is 1 or 2) && !(photometric == Photometric.RGB && perPixel is 3 or 4))
            {
                throw errors.Fail(
                    path,
                    $"photometric {photometric} with {perPixel} samples per pixel is not supported (gray with 1 or 2, "
                        + "RGB with 3 or 4; palette, YCbCr, CMYK and separated images are not)."
                );
            }

            int alpha = perPixel is 2 or 4 ? perPixel - 1 : -1;
            return new Layout(
                bits / 8,
                planar ? 1 : perPixel,
                planar ? perPixel : 1,
                gray,
                photometric == Photometric.MINISWHITE,
                alpha
            );
        }
    }

    /// <summary>Keeps LibTiff.NET's last error of this thread for the message, and writes nothing.</summary>
    private sealed class TiffErrors : TiffErrorHandler
    {
        [ThreadStatic]
        public static string? Last;

        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args) =>
            Last =
                args.Length == 0
                    ? format
                    : string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args) { }
    }
}
