using System;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Hosting;

/// <summary>
/// The process-wide setting of the native allocator that libtorch uses (glibc's mmap threshold), which decides whether
/// memory freed by tensors goes back to the system.
/// </summary>
/// <remarks>
/// glibc starts with a threshold of 128 KiB and raises it each time a large block is freed (up to 32 MiB), after which
/// such blocks come from the heaps and stay in the process. Decoded full-resolution images (12 MiB for 1024² RGB in
/// float) are exactly such blocks: with the dynamic threshold, training an 8×8 grid over 1024² images peaked at
/// 1.6–1.7× one tile-resolution model, with the fixed 4 MiB threshold at 1.06–1.09× (docs/benchmarks.md).
/// A fixed threshold of 4 MiB is still more permissive than glibc's starting value, so blocks that glibc would
/// have served from the heaps at first still are; only the dynamic raise is switched off.
/// glibc cannot switch its dynamic threshold back on, so when training ends the threshold is set to
/// <see cref="AfterTrainingThresholdBytes"/>, the value the dynamic one rises to: prediction after training in the same
/// process then serves its blocks (feature maps of 4 MiB and more at batch 4, full-resolution anomaly maps) from the
/// heaps as it would have without the limit, instead of fresh pages each time (measured: the backbone alone was 25–30 %
/// slower under the 4 MiB threshold, docs/benchmarks.md).
/// </remarks>
public static class NativeAllocator
{
    /// <summary>The threshold an ensemble sets when it starts training, unless told otherwise: 4 MiB.</summary>
    public const int DefaultThresholdBytes = 4 << 20;

    /// <summary>The threshold set when the last training of the process ends, if training set one: 32 MiB.</summary>
    public const int AfterTrainingThresholdBytes = 32 << 20;

    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h

    private static readonly RetentionPolicy Policy = new(Mallopt, () => Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null, DefaultThresholdBytes, AfterTrainingThresholdBytes);

    /// <summary>
    /// Whether <see cref="Ensemble.FitAsync(Data.Datasets.AnomalyDataModule, string, IProgress{EnsembleProgress}?, System.Threading.CancellationToken)"/> (and resuming) sets <see cref="DefaultThresholdBytes"/> while it trains
    /// and <see cref="AfterTrainingThresholdBytes"/> when it ends (default true). Set it to false before training when the
    /// application manages the allocator itself. Neither a <see cref="LimitRetention"/> call nor a
    /// <c>MALLOC_MMAP_THRESHOLD_</c> environment variable is ever overridden. Loading a run and predicting sets nothing.
    /// </summary>
    public static bool AutomaticRetentionLimit
    {
        get => Policy.Automatic;
        set => Policy.Automatic = value;
    }

    /// <summary>The threshold this process set through this class, in bytes; 0 when none was set.</summary>
    public static int AppliedThresholdBytes => Policy.Applied;

    /// <summary>
    /// On Linux with glibc, serves every native allocation of at least <paramref name="thresholdBytes"/> with its own
    /// mapping, returned to the system when freed, and stops glibc from raising that threshold. Returns whether the
    /// setting was applied (false elsewhere). Trainings never change it afterwards.
    /// </summary>
    /// <remarks>
    /// Lower thresholds keep less but cost more: each mapped block is fresh pages zeroed by the kernel (measured with
    /// 1 MiB: 26 % longer training and 35 % fewer predictions per second on 2 CPU cores; docs/benchmarks.md).
    /// </remarks>
    public static bool LimitRetention(int thresholdBytes = DefaultThresholdBytes)
    {
        if (thresholdBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdBytes), thresholdBytes, "thresholdBytes must be positive.");
        }

        return Policy.SetByApplication(thresholdBytes);
    }

    /// <summary>What an ensemble does while it trains: dispose the result when the training ends, whatever the outcome.</summary>
    internal static IDisposable BeginTraining(ILogger logger)
    {
        var (lease, applied) = Policy.BeginTraining();
        if (applied)
        {
            logger.LogDebug("Native blocks of {Threshold} MiB or more are mapped and returned to the system when freed while training (NativeAllocator.AutomaticRetentionLimit).", DefaultThresholdBytes >> 20);
        }

        return lease;
    }

    private static bool Mallopt(int thresholdBytes)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return false;
        }

        try
        {
            return mallopt(MmapThreshold, thresholdBytes) == 1;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries without mallopt: nothing to set.
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
