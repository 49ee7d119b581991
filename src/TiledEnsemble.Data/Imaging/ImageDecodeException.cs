using System;
using System.IO;

namespace TiledEnsemble.Data.Imaging;

/// <summary>An image file could not be read: corrupt, truncated, empty or of an unsupported format.</summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ImageDecodeException(string filePath, string reason, Exception? inner = null)
        : base($"Cannot read image '{filePath}': {reason}", inner)
    {
        FilePath = filePath;
    }

    /// <summary>The file that failed.</summary>
    public string FilePath { get; }
}
