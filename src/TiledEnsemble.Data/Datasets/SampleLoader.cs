using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Datasets;

/// <summary>
/// Loads samples in batches: decoding and resizing on background workers, at most <c>PrefetchBatches</c> batches ahead,
/// so a large set of large images never sits in memory at once.
/// </summary>
public sealed class SampleLoader
{
    private readonly LoaderOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a loader.</summary>
    public SampleLoader(LoaderOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>The settings in use.</summary>
    public LoaderOptions Options => _options;

    /// <summary>Yields batches of <paramref name="batchSize"/> samples, in order; dispose each batch when
    /// done.</summary>
    public IEnumerable<SampleBatch> Batches(
        IReadOnlyList<AnomalySample> samples,
        int batchSize,
        CancellationToken cancellationToken = default
    ) => Batches(samples, batchSize, perImage: null, cancellationToken);

    /// <summary>
    /// Yields batches of <paramref name="batchSize"/> samples, in order, with <paramref name="perImage"/> applied on
    /// the worker to every resized image [3, H, W] and its mask [1, H, W] (for example cutting out one tile); dispose
    /// each batch when done.
    /// </summary>
    /// <param name="samples">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="perImage">A crop or similar transform that keeps the channel count and maps an all-zero mask to an
    /// all-zero mask (crops, padding and resizing do). Its result is what the batch keeps, so it should own its memory
    /// (a contiguous copy, not a view of the full image). Called from worker threads at once.</param>
    /// <param name="cancellationToken">Stops loading.</param>
    /// <remarks>
    /// Only the transformed images are stacked: when a tiled ensemble trains one position it needs one tile of every
    /// image, and cutting it out here keeps full-resolution batches (48 MiB for four 1024² images) from being made at
    /// all. An image without a mask file and with a normal label gets its empty mask at the transformed size directly.
    /// Workers run on the current task scheduler (the thread pool unless the caller runs on another one, as training
    /// does: see the ensemble's documentation on OpenMP threads).
    /// </remarks>
    public IEnumerable<SampleBatch> Batches(
        IReadOnlyList<AnomalySample> samples,
        int batchSize,
        Func<Tensor, Tensor>? perImage,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        }

        var chunks = samples.Chunk(batchSize).ToList();
        var pending = new Queue<Task<Loaded[]>>();
        int next = 0;
        void Schedule()
        {
            while (next < chunks.Count && pending.Count <= _options.PrefetchBatches)
            {
                var chunk = chunks[next++];
                pending.Enqueue(
                    _options.NumWorkers == 0
                        ? Task.FromResult(LoadChunk(chunk, perImage, cancellationToken))
                        : Task.Factory.StartNew(
                            () => LoadChunk(chunk, perImage, cancellationToken),
                            cancellationToken,
                            TaskCreationOptions.DenyChildAttach,
                            TaskScheduler.Current
                        )
                );
            }
        }

        Schedule();
        try
        {
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Loaded[] loaded;
                try
                {
                    loaded = pending.Dequeue().GetAwaiter().GetResult();
                }
                catch (AggregateException aggregate) when (aggregate.InnerException is not null)
                {
                    throw aggregate.InnerException;
                }

                Schedule();
                var kept = loaded.Where(l => l.Image is not null).ToArray();
                if (kept.Length == 0)
                {
                    continue;
                }

                yield return Assemble(kept);
            }
        }
        finally
        {
            // Whatever was decoded ahead and not handed out is released, also when the caller stops early.
            foreach (var task in pending)
            {
                try
                {
                    foreach (var l in task.GetAwaiter().GetResult())
                    {
                        l.Dispose();
                    }
                }
                catch (Exception)
                {
                    // The failure of a batch nobody will read is not the caller's error.
                }
            }
        }
    }

    private SampleBatch Assemble(Loaded[] loaded)
    {
        using var scope = NewDisposeScope();
        var images = stack(loaded.Select(l => l.Image!).ToArray());
        var masks = stack(loaded.Select(l => l.Mask!).ToArray());
        var labels = tensor(loaded.Select(l => (long)l.Sample.Label).ToArray());

        // The original masks pass to the batch as they are (it disposes them); the rest of each loaded sample is
        // released.
        var originals = _options.KeepOriginalMasks ? loaded.Select(l => l.OriginalMask!).ToArray() : null;
        foreach (var l in loaded)
        {
            (l with { OriginalMask = null }).Dispose();
        }

        return new SampleBatch(
            images.MoveToOuterDisposeScope(),
            masks.MoveToOuterDisposeScope(),
            labels.MoveToOuterDisposeScope(),
            loaded.Select(l => l.Sample).ToArray(),
            loaded.Select(l => l.OriginalSize).ToArray(),
            originals
        );
    }

    private Loaded[] LoadChunk(
        AnomalySample[] chunk,
        Func<Tensor, Tensor>? perImage,
        CancellationToken cancellationToken
    )
    {
        var result = new Loaded[chunk.Length];
        // On the caller's scheduler (the ensemble's dedicated threads), not on TaskScheduler.Default, which parallel
        // loops use unless told.
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, _options.NumWorkers),
            CancellationToken = cancellationToken,
            TaskScheduler = TaskScheduler.Current,
        };
        Parallel.For(0, chunk.Length, parallel, i => result[i] = LoadOne(chunk[i], perImage));
        return result;
    }

    private Loaded LoadOne(AnomalySample sample, Func<Tensor, Tensor>? perImage)
    {
        // Tensors made here belong to no dispose scope of this worker thread: the consumer disposes them.
        try
        {
            using var scope = NewDisposeScope();
            var image = ImageIO.ReadImage(
                sample.ImagePath,
                maxSide: _options.MaxImageSide,
                maxPixels: _options.MaxImagePixels
            );
            var size = new Size2D((int)image.shape[1], (int)image.shape[2]);
            if (size.Height * 4 < _options.ImageSize.Height || size.Width * 4 < _options.ImageSize.Width)
            {
                _logger.LogWarning(
                    "'{Path}' is {Size}, enlarged more than four times to {ImageSize}: it holds little detail at "
                        + "that size; check that it belongs to the data set.",
                    sample.ImagePath,
                    size,
                    _options.ImageSize
                );
            }

            Tensor? mask;
            if (sample.Synthetic is { } synthetic)
            {
                (image, mask) = DefectDatasetGenerator.PaintOnto(
                    image,
                    synthetic.Kind,
                    synthetic.AreaFraction,
                    synthetic.Seed
                );
            }
            else if (sample.MaskPath is not null)
            {
                mask = ImageIO.ReadMask(sample.MaskPath, _options.MaxImageSide, _options.MaxImagePixels);
                if (mask.shape[1] != size.Height || mask.shape[2] != size.Width)
                {
                    throw new ImageDecodeException(
                        sample.MaskPath,
                        $"the mask is {mask.shape[1]}x{mask.shape[2]} but its image '{sample.ImagePath}' is {size}; "
                            + $"a mask must have the size of its image."
                    );
                }
            }
            else
            {
                // No mask file: empty for normal (and unknown) images, the whole image for anomalous ones. The empty
                // mask is made last, at the final size.
                mask = sample.Label == SampleLabel.Anomalous ? ones(1, size.Height, size.Width) : null;
            }

            var resized = ImageIO.Resize(image, _options.ImageSize);
            var resizedMask = mask is null ? null : ImageIO.ResizeMask(mask, _options.ImageSize);
            if (perImage is not null)
            {
                resized = Transformed(perImage, resized, sample, "image");
                resizedMask = resizedMask is null ? null : Transformed(perImage, resizedMask, sample, "mask");
            }

            resizedMask ??= zeros(1, resized.shape[1], resized.shape[2]);
            var original = _options.KeepOriginalMasks
                ? (mask ?? zeros(1, size.Height, size.Width)).MoveToOuterDisposeScope()
                : null;
            return new Loaded(
                sample,
                resized.MoveToOuterDisposeScope(),
                resizedMask.MoveToOuterDisposeScope(),
                size,
                original
            );
        }
        catch (Exception exception)
            when (_options.BadFilePolicy == BadFilePolicy.Skip
                && exception is ImageDecodeException or System.IO.IOException
            )
        {
            _logger.LogWarning("Skipping sample '{Path}': {Reason}", sample.ImagePath, exception.Message);
            return new Loaded(sample, null, null, default);
        }
    }

    private static Tensor Transformed(Func<Tensor, Tensor> perImage, Tensor input, AnomalySample sample, string what)
    {
        var output = perImage(input)
            ?? throw new InvalidOperationException(
                $"The per-image transform returned null for the {what} of '{sample.ImagePath}'."
            );
        if (output.dim() != 3 || output.shape[0] != input.shape[0])
        {
            throw new InvalidOperationException(
                $"The per-image transform turned the {what} of '{sample.ImagePath}' from "
                    + $"{TensorGuard.Describe(input)} into {TensorGuard.Describe(output)}; it must return "
                    + $"[{input.shape[0]}, h, w]."
            );
        }

        return output;
    }

    private sealed record Loaded(
        AnomalySample Sample,
        Tensor? Image,
        Tensor? Mask,
        Size2D OriginalSize,
        Tensor? OriginalMask = null
    ) : IDisposable
    {
        public void Dispose()
        {
            Image?.Dispose();
            Mask?.Dispose();
            OriginalMask?.Dispose();
        }
    }
}
