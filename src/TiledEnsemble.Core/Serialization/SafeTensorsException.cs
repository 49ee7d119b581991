using System.IO;

namespace TiledEnsemble.Serialization;

/// <summary>A safetensors file is malformed, truncated, or does not fit what it is loaded into.</summary>
public sealed class SafeTensorsException : IOException
{
    /// <summary>Creates the exception; the message names the file.</summary>
    public SafeTensorsException(string filePath, string reason)
        : base($"Safetensors file '{filePath}': {reason}")
    {
        FilePath = filePath;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }
}
