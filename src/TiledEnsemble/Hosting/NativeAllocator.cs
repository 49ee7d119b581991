using System;
using System.Runtime.InteropServices;
using System.Threading;
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
/// 1.71× one tile-resolution model, with the fixed 4 MiB threshold at 1.06× (docs/benchmarks.md).
/// A fixed threshold of 4 MiB is still more permissive than glibc's starting value, so blocks that glibc would
/// have served from the heaps at first still are; only the dynamic raise is switched off.
/// </remarks>
public static class NativeAllocator
{
    /// <summary>The threshold an ensemble sets when it starts training, unless told otherwise: 4 MiB.</summary>
    public const int DefaultThresholdBytes = 4 << 20;

    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private static int _appliedThreshold;

    /// <summary>
    /// Whether <see cref="Ensemble.FitAsync"/> (and resuming) sets <see cref="DefaultThresholdBytes"/> (default true).
    /// Set it to false before training when the application manages the allocator itself. Neither an earlier
    /// <see cref="LimitRetention"/> call nor a <c>MALLOC_MMAP_THRESHOLD_</c> environment variable is overridden.
    /// Prediction alone does not set it: with glibc's dynamic threshold repeated predictions reach a steady state, and
    /// full-resolution maps reuse heap memory instead of fresh pages.
    /// </summary>
    public static bool AutomaticRetentionLimit { get; set; } = true;

    /// <summary>The threshold this process set through this class, in bytes; 0 when none was set.</summary>
    public static int AppliedThresholdBytes => Volatile.Read(ref _appliedThreshold);

    /// <summary>
    /// On Linux with glibc, serves every native allocation of at least <paramref name="thresholdBytes"/> with its own
    /// mapping, returned to the system when freed, and stops glibc from raising that threshold. Returns whether the
    /// setting was applied (false elsewhere).
    /// </summary>
    /// <remarks>
    /// Lower thresholds keep less but cost more: each mapped block is fresh pages zeroed by the kernel (measured with
    /// 1 MiB: 26 % longer training and 35 % fewer predictions per second on 2 CPU cores; with 4 MiB the cost was within
    /// the run-to-run noise, docs/benchmarks.md).
    /// </remarks>
    public static bool LimitRetention(int thresholdBytes = DefaultThresholdBytes)
    {
        if (thresholdBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdBytes), thresholdBytes, "thresholdBytes must be positive.");
        }

        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return false;
        }

        try
        {
            if (mallopt(MmapThreshold, thresholdBytes) != 1)
            {
                return false;
            }

            Volatile.Write(ref _appliedThreshold, thresholdBytes);
            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries without mallopt: nothing to set.
            return false;
        }
    }

    /// <summary>What an ensemble does when it starts training: the default limit, once, unless the application chose otherwise.</summary>
    internal static void ApplyAutomaticLimit(ILogger logger)
    {
        if (!AutomaticRetentionLimit || AppliedThresholdBytes != 0 || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null)
        {
            return;
        }

        if (LimitRetention(DefaultThresholdBytes))
        {
            logger.LogDebug("Native blocks of {Threshold} MiB or more are now mapped and returned to the system when freed (NativeAllocator.AutomaticRetentionLimit).", DefaultThresholdBytes >> 20);
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
