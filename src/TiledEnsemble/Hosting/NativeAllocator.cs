using System;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Hosting;

/// <summary>
/// The process-wide setting of the native allocator that libtorch uses (glibc's mmap and trim thresholds), which
/// decides whether memory freed by tensors goes back to the system or is kept for the next allocation.
/// </summary>
/// <remarks>
/// <para>
/// Training and prediction want opposite things. glibc starts with an mmap threshold of 128 KiB and raises it each time
/// a large block is freed (up to 32 MiB), after which such blocks come from the heaps and stay in the process. While
/// training, decoded full-resolution images (12 MiB for 1024² RGB in float) are exactly such blocks: with the dynamic
/// threshold, training an 8×8 grid over 1024² images peaked at 1.6–1.7× one tile-resolution model, with the fixed
/// 4 MiB threshold at 1.06–1.09× (docs/benchmarks.md). So training fixes it at <see cref="DefaultThresholdBytes"/>
/// (trim threshold 8 MiB, twice that, as glibc's own rule would have it).
/// </para>
/// <para>
/// Prediction repeats the same allocations at every batch; a block that is mapped afresh each time costs page faults
/// on zeroed pages (at batch 16 of 256² the stem's output is 64 MiB, above anything glibc keeps). So once an ensemble
/// is ready to predict (a run loaded, or the last training ended) both thresholds are set to <see
/// cref="PredictionThresholdBytes"/>: freed blocks stay in the process for the next batch, as ONNX Runtime's arena
/// keeps them. The resident set then stays at the largest working set prediction needed. Measured on 2 Zen 5 cores
/// (same machine and day): the backbone went from 0.52 to 0.76 of ONNX Runtime at batch 16 and its fresh pages per
/// image from 1,460 to 56 (docs/benchmarks.md).
/// </para>
/// </remarks>
public static class NativeAllocator
{
    /// <summary>The mmap threshold an ensemble sets while it trains, unless told otherwise: 4 MiB.</summary>
    public const int DefaultThresholdBytes = 4 << 20;

    /// <summary>The mmap and trim thresholds set for prediction, unless told otherwise: 1 GiB.</summary>
    public const int PredictionThresholdBytes = 1 << 30;

    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD

    private static readonly RetentionPolicy Policy = new(
        Mallopt,
        EnvironmentChose,
        new AllocatorSetting(DefaultThresholdBytes, 2 * DefaultThresholdBytes),
        new AllocatorSetting(PredictionThresholdBytes, PredictionThresholdBytes)
    );

    /// <summary>
    /// Whether ensembles set the allocator (default true): <see cref="DefaultThresholdBytes"/> while <see
    /// cref="Ensemble.FitAsync(Data.Datasets.AnomalyDataModule, string, IProgress{EnsembleProgress}?,
    /// System.Threading.CancellationToken)"/> (or resuming) trains, <see cref="PredictionThresholdBytes"/> when the
    /// last training ends and when <see cref="EnsemblePredictor.Load"/> opens a run. Set it to false first when the
    /// application manages the allocator itself. Neither a <see cref="LimitRetention"/> call nor glibc's malloc
    /// variables in the environment (<c>MALLOC_MMAP_THRESHOLD_</c>, <c>MALLOC_TRIM_THRESHOLD_</c>, their
    /// <c>GLIBC_TUNABLES</c> forms) are ever overridden.
    /// </summary>
    public static bool AutomaticRetentionLimit
    {
        get => Policy.Automatic;
        set => Policy.Automatic = value;
    }

    /// <summary>The mmap threshold this process set through this class, in bytes; 0 when none was set.</summary>
    public static int AppliedThresholdBytes => Policy.Applied;

    /// <summary>
    /// On Linux with glibc, serves every native allocation of at least <paramref name="thresholdBytes"/> with its own
    /// mapping, returned to the system when freed, and stops glibc from raising that threshold. Returns whether the
    /// setting was applied (false elsewhere). Trainings and predictions never change the allocator afterwards.
    /// </summary>
    /// <remarks>
    /// Lower thresholds keep less but cost more: each mapped block is fresh pages zeroed by the kernel (measured with
    /// 1 MiB: 26 % longer training and 35 % fewer predictions per second on 2 CPU cores; docs/benchmarks.md).
    /// </remarks>
    public static bool LimitRetention(int thresholdBytes = DefaultThresholdBytes)
    {
        if (thresholdBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(thresholdBytes),
                thresholdBytes,
                "thresholdBytes must be positive."
            );
        }

        return Policy.SetByApplication(thresholdBytes);
    }

    /// <summary>What an ensemble does while it trains: dispose the result when the training ends, whatever the
    /// outcome.</summary>
    internal static IDisposable BeginTraining(ILogger logger)
    {
        var (lease, applied) = Policy.BeginTraining();
        if (applied)
        {
            logger.LogDebug(
                "Native blocks of {Threshold} MiB or more are mapped and returned to the system when freed while "
                    + "training (NativeAllocator.AutomaticRetentionLimit).",
                DefaultThresholdBytes >> 20
            );
        }

        return lease;
    }

    /// <summary>What an ensemble does when it is ready to predict.</summary>
    internal static void BeginPrediction(ILogger logger)
    {
        if (Policy.BeginPrediction())
        {
            logger.LogDebug(
                "Native blocks below {Threshold} MiB freed by prediction are kept for the next batch "
                    + "(NativeAllocator.AutomaticRetentionLimit).",
                PredictionThresholdBytes >> 20
            );
        }
    }

    private static bool EnvironmentChose()
    {
        string tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? string.Empty;
        return Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null
            || tunables.Contains("glibc.malloc.mmap_threshold", StringComparison.Ordinal)
            || tunables.Contains("glibc.malloc.trim_threshold", StringComparison.Ordinal);
    }

    private static bool Mallopt(AllocatorSetting setting)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return false;
        }

        try
        {
            return mallopt(MmapThreshold, setting.MmapThresholdBytes) == 1
                && (setting.TrimThresholdBytes is not { } trim || mallopt(TrimThreshold, trim) == 1);
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
