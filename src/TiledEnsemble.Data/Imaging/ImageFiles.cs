using System;
using System.Buffers.Binary;
using System.IO;
using SkiaSharp;

namespace TiledEnsemble.Data.Imaging;

/// <summary>How an image file's problems become exceptions: each assembly that shares <see cref="ImageFiles"/> has its
/// own.</summary>
/// <param name="Undecodable">A file that is not a readable image: the file, the reason, an inner exception.</param>
/// <param name="TooLarge">A file beyond the size limits: the file, its width and height, the side limit, the pixel
/// budget.</param>
internal sealed record ImageFileErrors(
    Func<string, string, Exception?, Exception> Undecodable,
    Func<string, int, int, int, long, Exception> TooLarge
)
{
    /// <summary>The exception of a file that is not a readable image, for the reason given.</summary>
    public Exception Fail(string path, string reason) => Undecodable(path, reason, null);
}

/// <summary>
/// Opening and decoding image files with SkiaSharp, checked before any pixel is allocated: the file exists and is not
/// empty, links resolve, the format is PNG, JPEG or BMP (TIFF goes to TiffReader), the size is within the limit. Shared
/// as source with TiledEnsemble.OnnxRuntime, so that both predictors read images the same way.
/// </summary>
internal sealed class ImageFiles : IDisposable
{
    private readonly ImageFileErrors _errors;
    private readonly string _path;

    private ImageFiles(SKCodec codec, bool sixteenBit, string path, ImageFileErrors errors)
    {
        Codec = codec;
        SixteenBit = sixteenBit;
        _path = path;
        _errors = errors;
        var info = codec.Info;
        Channels =
            info.ColorType == SKColorType.Gray8 || IsGrayPng(path) ? 1
            : info.AlphaType == SKAlphaType.Opaque ? 3
            : 4;

        // Interlaced 16-bit PNGs are left to SkiaSharp, which decodes them to half floats (11 significant bits).
        Target = new SKImageInfo(
            info.Width,
            info.Height,
            sixteenBit ? SKColorType.RgbaF16 : SKColorType.Rgba8888,
            SKAlphaType.Unpremul
        );
    }

    public SKCodec Codec { get; }

    /// <summary>The file.</summary>
    public string Path => _path;

    /// <summary>Whether the file is a 16-bit PNG (read exactly by <c>Png16Reader</c> where it can).</summary>
    public bool SixteenBit { get; }

    /// <summary>Channels the file stores: 1 (gray), 3 (RGB) or 4 (with alpha).</summary>
    public int Channels { get; }

    /// <summary>How <see cref="ReadPixels"/> lays the pixels out: RGBA, bytes or half floats,
    /// unpremultiplied.</summary>
    public SKImageInfo Target { get; }

    /// <summary>The EXIF orientation the file records (1–8; 1 when none), see
    /// <see cref="ImageOrientation"/>.</summary>
    public int Origin => (int)Codec.EncodedOrigin;

    public int Height => Codec.Info.Height;

    public int Width => Codec.Info.Width;

    /// <summary>Opens an image and checks its size against <paramref name="maxSide"/> before anything is
    /// decoded.</summary>
    public static ImageFiles Open(string path, int maxSide, long maxPixels, ImageFileErrors errors)
    {
        var codec = OpenCodec(path, errors, out bool sixteenBit);
        try
        {
            EnsureWithin(path, codec.Info.Width, codec.Info.Height, maxSide, maxPixels, errors);
            return new ImageFiles(codec, sixteenBit, path, errors);
        }
        catch
        {
            codec.Dispose();
            throw;
        }
    }

    /// <summary>Decodes into <paramref name="pixels"/>, which holds <see cref="Target"/>'s bytes.</summary>
    public void ReadPixels(IntPtr pixels)
    {
        var result = Codec.GetPixels(Target, pixels);
        if (result != SKCodecResult.Success)
        {
            throw _errors.Undecodable(
                _path,
                result == SKCodecResult.IncompleteInput
                    ? "the file is truncated (incomplete image data)."
                    : $"decoding failed ({result}).",
                null
            );
        }
    }

    public void Dispose() => Codec.Dispose();

    /// <summary>Refuses sizes beyond the side limit or the pixel budget, from the header, before any allocation; and
    /// sizes no buffer can hold (RGBA samples beyond an array's length), whatever the limits.</summary>
    public static void EnsureWithin(
        string path,
        int width,
        int height,
        int maxSide,
        long maxPixels,
        ImageFileErrors errors
    )
    {
        long pixels = (long)width * height;
        if (width > maxSide || height > maxSide || pixels > maxPixels)
        {
            throw errors.TooLarge(path, width, height, maxSide, maxPixels);
        }

        if (pixels * 4 > Array.MaxLength)
        {
            throw errors.Fail(path, $"{width}×{height} pixels are more than one buffer can hold.");
        }
    }

    public static SKCodec OpenCodec(string path, ImageFileErrors errors, out bool sixteenBit)
    {
        CheckFile(path, errors);
        PngChunks.Validate(path, errors);
        var codec = SKCodec.Create(path, out var result);
        if (codec is null)
        {
            throw errors.Undecodable(
                path,
                $"not a supported image (PNG, JPEG, BMP or TIFF), or corrupt ({result}).",
                null
            );
        }

        if (
            codec.EncodedFormat
            is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Bmp)
        )
        {
            var format = codec.EncodedFormat;
            codec.Dispose();
            throw errors.Undecodable(path, $"format {format} is not supported (PNG, JPEG, BMP or TIFF).", null);
        }

        if (codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            codec.Dispose();
            throw errors.Undecodable(path, "the image has zero width or height.", null);
        }

        sixteenBit = codec.EncodedFormat == SKEncodedImageFormat.Png && PngHeaderByte(path, 24) == 16;
        return codec;
    }

    /// <summary>
    /// Checks what can be checked before a decoder opens the file: it exists, links resolve, it is a regular file (a
    /// FIFO or device would block or never end) and not empty.
    /// </summary>
    public static void CheckFile(string path, ImageFileErrors errors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        }

        var file = new FileInfo(path);
        if (file.LinkTarget is not null)
        {
            FileSystemInfo? target;
            try
            {
                target = file.ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException exception)
            {
                throw errors.Undecodable(
                    path,
                    $"it is a symbolic link that cannot be followed ({exception.Message}).",
                    exception
                );
            }

            if (target is null || !target.Exists)
            {
                throw errors.Undecodable(
                    path,
                    $"it is a symbolic link to '{file.LinkTarget}', which does not exist.",
                    null
                );
            }

            file = new FileInfo(target.FullName);
        }

        if (ConfinedFile.IsSpecial(file.FullName))
        {
            throw errors.Undecodable(path, "it is not a regular file (a FIFO, device or socket).", null);
        }

        if (file.Length == 0)
        {
            throw errors.Undecodable(path, "the file is empty.", null);
        }
    }

    private static bool IsGrayPng(string path)
    {
        int colorType = PngHeaderByte(path, 25);
        return colorType is 0 or 4;
    }

    /// <summary>A byte of a PNG's IHDR chunk (24: bit depth, 25: colour type), or -1 when the file is no PNG.</summary>
    private static int PngHeaderByte(string path, int offset)
    {
        Span<byte> header = stackalloc byte[26];
        using var stream = File.OpenRead(path);
        if (stream.Read(header) < 26 || BinaryPrimitives.ReadUInt64BigEndian(header) != 0x89504E470D0A1A0AUL)
        {
            return -1;
        }

        return header[offset];
    }
}
