using System;
using System.IO;

namespace TiledEnsemble.Deployment;

/// <summary>An export folder or an image that cannot be used: the message names the file and the problem.</summary>
public sealed class DeploymentException : IOException
{
    /// <summary>Creates the exception; the message names the file.</summary>
    public DeploymentException(string filePath, string reason, Exception? inner = null)
        : base($"'{filePath}': {reason}", inner)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }
}
