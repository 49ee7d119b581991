using System;
using System.Collections.Generic;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Datasets;

/// <summary>A batch of loaded samples. The batch owns its tensors: dispose it when done.</summary>
public sealed class SampleBatch : IDisposable
{
    internal SampleBatch(
        Tensor images,
        Tensor masks,
        Tensor labels,
        IReadOnlyList<AnomalySample> samples,
        IReadOnlyList<Size2D> originalSizes,
        IReadOnlyList<Tensor>? originalMasks = null
    )
    {
        OriginalMasks = originalMasks;
        Images = images;
        Masks = masks;
        Labels = labels;
        Samples = samples;
        OriginalSizes = originalSizes;
    }

    /// <summary>[B, 3, H, W] float32 in [0, 1], resized to the loader's image size (not normalized).</summary>
    public Tensor Images { get; }

    /// <summary>[B, 1, H, W] float32 of 0 and 1.</summary>
    public Tensor Masks { get; }

    /// <summary>[B] int64: 1 anomalous, 0 normal, −1 unknown.</summary>
    public Tensor Labels { get; }

    /// <summary>The samples, in batch order.</summary>
    public IReadOnlyList<AnomalySample> Samples { get; }

    /// <summary>Each image's size on disk, to bring predictions back to it.</summary>
    public IReadOnlyList<Size2D> OriginalSizes { get; }

    /// <summary>
    /// [1, h, w] float32 masks of 0 and 1 at each image's size on disk, when the loader was asked to keep them
    /// (<see cref="LoaderOptions.KeepOriginalMasks"/>); null otherwise.
    /// </summary>
    public IReadOnlyList<Tensor>? OriginalMasks { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Samples.Count;

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Masks.Dispose();
        Labels.Dispose();
        foreach (var mask in OriginalMasks ?? Array.Empty<Tensor>())
        {
            mask.Dispose();
        }
    }
}
