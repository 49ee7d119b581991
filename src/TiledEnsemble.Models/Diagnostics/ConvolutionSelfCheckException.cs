using System;
using System.Collections.Generic;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>
/// Thrown before a backbone runs when a convolution it needs computes wrong values on this CPU or device: the anomaly
/// maps would be wrong, so nothing is trained or predicted.
/// </summary>
public sealed class ConvolutionSelfCheckException : Exception
{
    /// <summary>Creates the exception for <paramref name="mismatches"/>.</summary>
    public ConvolutionSelfCheckException(IReadOnlyList<ConvolutionMismatch> mismatches, RuntimeEnvironment environment)
        : base(Describe(mismatches, environment))
    {
        Mismatches = mismatches;
    }

    /// <summary>The convolutions that differ from the reference.</summary>
    public IReadOnlyList<ConvolutionMismatch> Mismatches { get; }

    private static string Describe(IReadOnlyList<ConvolutionMismatch> mismatches, RuntimeEnvironment environment) =>
        $"libtorch computes wrong convolution values on this machine ({environment.Processor}; libtorch "
        + $"{environment.LibTorchVersion}), "
        + $"so the anomaly maps would be wrong: {mismatches[0]}"
        + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more)" : string.Empty)
        + ". Run `tiled-ensemble doctor` (or ConvolutionSelfCheck.Run) for the full list. To compute convolutions "
        + "without "
        + $"oneDNN (slower, checked the same way), set the environment variable "
        + $"{ConvolutionSelfCheck.OneDnnVariable}=0; "
        + "see docs/troubleshooting.md.";
}
