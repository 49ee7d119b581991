using System.IO;

namespace TiledEnsemble.Persistence;

/// <summary>A run directory does not match what its manifest promises: a file is missing, changed or of another
/// version.</summary>
public sealed class RunIntegrityException : IOException
{
    /// <summary>Creates the exception; the message names the file.</summary>
    public RunIntegrityException(string filePath, string reason)
        : base($"Run file '{filePath}': {reason}")
    {
        FilePath = filePath;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }
}
