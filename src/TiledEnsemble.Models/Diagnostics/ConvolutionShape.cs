using System.Collections.Generic;
using System.Globalization;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>One convolution as a backbone runs it: its parameters and the size of the feature map it
/// receives.</summary>
/// <param name="Modules">The backbone's modules with this shape (<c>layer3.1.conv1</c>, …).</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Kernel">Kernel size (square).</param>
/// <param name="Stride">Stride.</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="InputHeight">Height of the feature map it receives.</param>
/// <param name="InputWidth">Width of the feature map it receives.</param>
public sealed record ConvolutionShape(
    IReadOnlyList<string> Modules,
    long InChannels,
    long OutChannels,
    long Kernel,
    long Stride,
    long Padding,
    long InputHeight,
    long InputWidth
)
{
    /// <summary>Output height.</summary>
    public long OutputHeight => ((InputHeight + (2 * Padding) - Kernel) / Stride) + 1;

    /// <summary>Output width.</summary>
    public long OutputWidth => ((InputWidth + (2 * Padding) - Kernel) / Stride) + 1;

    /// <summary>For messages: <c>layer4.0.downsample.0: 256→512, 1×1, stride 2, padding 0, input 8×8</c>.</summary>
    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{string.Join(", ", Modules)}: {InChannels}→{OutChannels}, {Kernel}×{Kernel}, stride {Stride}, padding "
                + $"{Padding}, input {InputHeight}×{InputWidth}"
        );
}
