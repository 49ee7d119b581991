using System;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Data.Datasets;

/// <summary>What to do with a file that cannot be read during loading.</summary>
public enum BadFilePolicy
{
    /// <summary>Stop with an exception naming the file (the default).</summary>
    Fail,

    /// <summary>Leave the sample out and log a warning naming the file.</summary>
    Skip,
}

/// <summary>Batching and loading settings.</summary>
public sealed record LoaderOptions
{
    /// <summary>Images (and masks) are resized to this size.</summary>
    public Size2D ImageSize { get; init; } = 256;

    /// <summary>Batch size for training.</summary>
    public int TrainBatchSize { get; init; } = 32;

    /// <summary>Batch size for validation, test and prediction.</summary>
    public int EvalBatchSize { get; init; } = 32;

    /// <summary>Background threads decoding images; 0 decodes on the caller's thread.</summary>
    public int NumWorkers { get; init; } = 2;

    /// <summary>Batches decoded ahead of the one being used; bounds memory to (1 + this) batches.</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>What to do with unreadable files (and files beyond <see cref="MaxImageSide"/>).</summary>
    public BadFilePolicy BadFilePolicy { get; init; } = BadFilePolicy.Fail;

    /// <summary>Largest image width or height read, checked from the header before decoding (default 16384).</summary>
    public int MaxImageSide { get; init; } = Imaging.ImageIO.DefaultMaxSide;

    /// <summary>Most pixels (width × height) an image may have, checked from the header before decoding (default
    /// 8192², <see cref="Imaging.ImageIO.DefaultMaxPixels"/>).</summary>
    public long MaxImagePixels { get; init; } = Imaging.ImageIO.DefaultMaxPixels;

    /// <summary>
    /// Also hand out each ground-truth mask at its image's size on disk (<see cref="SampleBatch.OriginalMasks"/>), for
    /// metrics at the original resolution.
    /// </summary>
    public bool KeepOriginalMasks { get; init; }

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (ImageSize.Height <= 0 || ImageSize.Width <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "ImageSize must be positive.");
        }

        if (TrainBatchSize <= 0 || EvalBatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(TrainBatchSize),
                $"Batch sizes must be positive; got train {TrainBatchSize}, eval {EvalBatchSize}."
            );
        }

        if (MaxImagePixels <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxImagePixels),
                MaxImagePixels,
                "MaxImagePixels must be positive."
            );
        }

        if (MaxImageSide <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImageSide), MaxImageSide, "MaxImageSide must be positive.");
        }

        if (NumWorkers < 0 || PrefetchBatches < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(NumWorkers),
                $"NumWorkers and PrefetchBatches must be non-negative; got {NumWorkers} and {PrefetchBatches}."
            );
        }
    }
}
