using System.Collections.Generic;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>The result of <see cref="ConvolutionSelfCheck.Run"/>.</summary>
/// <param name="Environment">Where it ran.</param>
/// <param name="Checked">Convolution runs compared (shape × batch × layout).</param>
/// <param name="Mismatches">Every run that differed from the reference.</param>
public sealed record ConvolutionCheckReport(
    RuntimeEnvironment Environment,
    int Checked,
    IReadOnlyList<ConvolutionMismatch> Mismatches
)
{
    /// <summary>Whether every convolution matched the reference.</summary>
    public bool Passed => Mismatches.Count == 0;
}
