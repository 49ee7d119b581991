using System.Collections.Generic;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>What <see cref="ConvolutionSelfCheck.Run"/> covers.</summary>
public sealed class ConvolutionCheckOptions
{
    /// <summary>Backbones whose convolutions are checked (every convolution of all four layers).</summary>
    public IReadOnlyList<BackboneKind> Backbones { get; init; } =
        new[] { BackboneKind.ResNet18, BackboneKind.WideResNet50 };

    /// <summary>Square tile sizes fed to the backbones; each gives its own feature-map sizes (odd ones
    /// included).</summary>
    public IReadOnlyList<int> TileSizes { get; init; } = new[] { 32, 64, 100, 128, 256 };

    /// <summary>Batch sizes.</summary>
    public IReadOnlyList<int> Batches { get; init; } = new[] { 1, 3 };

    /// <summary>Check channels-last inputs (the backbones' layout on the CPU).</summary>
    public bool ChannelsLast { get; init; } = true;

    /// <summary>Check channels-first (contiguous) inputs.</summary>
    public bool ChannelsFirst { get; init; } = true;

    /// <summary>
    /// Compare every output position (exhaustive); otherwise the borders and up to <see cref="SampledPositions"/>
    /// positions in all, every output channel of every image either way.
    /// </summary>
    public bool AllPositions { get; init; }

    /// <summary>Positions compared per image when <see cref="AllPositions"/> is off.</summary>
    public int SampledPositions { get; init; } = 256;

    /// <summary>The device to check (the reference runs there too, in float64); the CPU when null.</summary>
    public string? Device { get; init; }

    /// <summary>Seed of the random inputs and weights.</summary>
    public long Seed { get; init; } = 20261202;
}
