using System;
using System.IO;

namespace TiledEnsemble.Data.Imaging;

/// <summary>An image file could not be read: corrupt, truncated, empty, too large or of an unsupported
/// format.</summary>
public class ImageDecodeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ImageDecodeException(string filePath, string reason, Exception? inner = null)
        : base($"Cannot read image '{filePath}': {reason}", inner)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The file that failed.</summary>
    public string FilePath { get; }

    /// <summary>Why, without the file name (for a report's status column).</summary>
    public string Reason { get; }
}

/// <summary>
/// An image whose header declares more pixels per side than the limit: refused before anything is decoded, so a
/// 74-byte file claiming 100000×100000 pixels costs nothing.
/// </summary>
public sealed class ImageTooLargeException : ImageDecodeException
{
    /// <summary>Creates the exception of an image beyond the side limit.</summary>
    public ImageTooLargeException(string filePath, int width, int height, int maxSide)
        : this(filePath, width, height, maxSide, long.MaxValue) { }

    /// <summary>Creates the exception of an image beyond the side limit or the pixel budget.</summary>
    public ImageTooLargeException(string filePath, int width, int height, int maxSide, long maxPixels)
        : base(filePath, Describe(width, height, maxSide, maxPixels))
    {
        Width = width;
        Height = height;
        MaxSide = maxSide;
        MaxPixels = maxPixels;
    }

    /// <summary>The pixel budget it was checked against.</summary>
    public long MaxPixels { get; }

    private static string Describe(int width, int height, int maxSide, long maxPixels) =>
        width > maxSide || height > maxSide
            ? $"the image is {width}×{height} pixels (from its header), beyond the limit of {maxSide} pixels per "
                + "side; resize it or raise the limit (MaxImageSide / MaxInputSide, max_image_side in YAML)."
            : $"the image is {width}×{height} = {(long)width * height} pixels (from its header), beyond the budget "
                + $"of {maxPixels} pixels (decoding costs about 40 bytes a pixel); resize it or raise the budget "
                + "(MaxImagePixels / MaxInputPixels, max_image_pixels in YAML).";

    /// <summary>Declared width.</summary>
    public int Width { get; }

    /// <summary>Declared height.</summary>
    public int Height { get; }

    /// <summary>The limit it exceeded.</summary>
    public int MaxSide { get; }
}
