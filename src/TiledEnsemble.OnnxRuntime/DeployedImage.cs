using System;
using System.Runtime.InteropServices;
using SkiaSharp;
using TiledEnsemble.Data.Imaging;

namespace TiledEnsemble.Deployment;

/// <summary>An RGB image in memory: [3, H, W] values in [0, 1], channel by channel, row by row.</summary>
public sealed class DeployedImage
{
    /// <summary>The largest image side read from files unless told otherwise.</summary>
    public const int DefaultMaxSide = 16384;

    /// <summary>The most pixels read from files unless told otherwise (8192², as TiledEnsemble's
    /// <c>ImageIO.DefaultMaxPixels</c>).</summary>
    public const long DefaultMaxPixels = 1L << 26;

    private static readonly ImageFileErrors Errors = new(
        (path, reason, inner) => new DeploymentException(path, reason, inner),
        (path, width, height, maxSide, maxPixels) =>
            new DeploymentException(
                path,
                width > maxSide || height > maxSide
                    ? $"the image is {width}x{height}, beyond the limit of {maxSide} pixels a side."
                    : $"the image is {width}x{height} = {(long)width * height} pixels, beyond the budget of "
                        + $"{maxPixels} pixels (DeploymentOptions.MaxInputPixels)."
            )
    );

    /// <summary>Wraps pixels (not copied).</summary>
    /// <exception cref="ArgumentException">The size is not positive, the array is not 3 × height × width, or a value
    /// is not finite.</exception>
    public DeployedImage(float[] pixels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (height <= 0 || width <= 0 || pixels.LongLength != 3L * height * width)
        {
            throw new ArgumentException(
                $"pixels must hold 3 × {height} × {width} values for a {height}x{width} RGB image; got "
                    + $"{pixels.LongLength}.",
                nameof(pixels)
            );
        }

        int bad = Array.FindIndex(pixels, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"pixels[{bad}] is {pixels[bad]}; images hold finite values in [0, 1].",
                nameof(pixels)
            );
        }

        Pixels = pixels;
        Height = height;
        Width = width;
    }

    /// <summary>[3, H, W] RGB values in [0, 1].</summary>
    public float[] Pixels { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>
    /// Reads a PNG, JPEG, BMP or TIFF file as TiledEnsemble reads it (16-bit PNGs exactly, gray as RGB, alpha dropped),
    /// after checking its header against <paramref name="maxSide"/>.
    /// </summary>
    /// <exception cref="DeploymentException">The file is not a readable image, or too large; the message says
    /// which.</exception>
    /// <exception cref="System.IO.FileNotFoundException">There is no such file.</exception>
    /// <param name="path">The file.</param>
    /// <param name="maxSide">Largest width or height accepted, from the header.</param>
    /// <param name="maxPixels">Most pixels accepted, from the header.</param>
    public static DeployedImage FromFile(string path, int maxSide = DefaultMaxSide, long maxPixels = DefaultMaxPixels)
    {
        ImageFiles.CheckFile(path, Errors);
        if (TiffReader.IsTiff(path))
        {
            var tiff = TiffReader.Read(path, maxSide, maxPixels, Errors);
            return Displayed(Planar(tiff.Samples, tiff.Height * tiff.Width), tiff.Height, tiff.Width, tiff.Origin);
        }

        using var file = ImageFiles.Open(path, maxSide, maxPixels, Errors);
        int height = file.Height,
            width = file.Width,
            plane = height * width;
        if (file.SixteenBit && Png16Reader.TryRead(path, Errors) is { } exact)
        {
            return Displayed(Planar(exact.Samples, plane), height, width, file.Origin);
        }

        var pixels = new float[3 * plane];

        if (file.SixteenBit)
        {
            var halves = new Half[plane * 4];
            ReadInto(file, MemoryMarshal.AsBytes(halves.AsSpan()));
            for (int i = 0; i < plane; i++)
            {
                for (int c = 0; c < 3; c++)
                {
                    pixels[(c * plane) + i] = (float)halves[(i * 4) + c];
                }
            }
        }
        else
        {
            var bytes = new byte[plane * 4];
            ReadInto(file, bytes);
            for (int i = 0; i < plane; i++)
            {
                for (int c = 0; c < 3; c++)
                {
                    pixels[(c * plane) + i] = bytes[(i * 4) + c] / 255f;
                }
            }
        }

        return Displayed(pixels, height, width, file.Origin);
    }

    /// <summary>The image as viewers display it under EXIF orientation <paramref name="origin"/>.</summary>
    private static DeployedImage Displayed(float[] planes, int height, int width, int origin)
    {
        var oriented = ImageOrientation.ApplyPlanar(planes, 3, height, width, origin);
        return ImageOrientation.SwapsSides(origin)
            ? new DeployedImage(oriented, width, height)
            : new DeployedImage(oriented, height, width);
    }

    /// <summary>RGB planes [3, H, W] of interleaved RGBA samples.</summary>
    private static float[] Planar(float[] rgba, int plane)
    {
        var pixels = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                pixels[(c * plane) + i] = rgba[(i * 4) + c];
            }
        }

        return pixels;
    }

    private static unsafe void ReadInto(ImageFiles file, Span<byte> buffer)
    {
        if (buffer.Length != file.Target.BytesSize)
        {
            throw Errors.Fail(
                file.Path,
                $"unexpected pixel layout ({file.Target.BytesSize} bytes for {file.Width}x{file.Height})."
            );
        }

        fixed (byte* pixels = buffer)
        {
            file.ReadPixels((IntPtr)pixels);
        }
    }
}
