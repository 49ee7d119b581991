using System;
using System.Runtime.InteropServices;

namespace TiledEnsemble.Hosting;

/// <summary>Process-wide settings of the native allocator that libtorch uses, for applications that choose them.</summary>
public static class NativeAllocator
{
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h

    /// <summary>
    /// On Linux with glibc, serves every native allocation of at least <paramref name="thresholdBytes"/> with its own
    /// mapping, returned to the system when freed. Returns whether the setting was applied (false elsewhere).
    /// </summary>
    /// <remarks>
    /// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which such blocks come from
    /// per-thread heaps and stay in the process. With the loader decoding on worker threads and the model freeing on
    /// the training thread, that retention grew the training peak with the image size (measured: 1.3–1.45 GiB for an
    /// 8×8 grid over 1024² images, 0.49 GiB with this setting; see docs/benchmarks.md). It is process-wide, so it is
    /// the application's call, not the library's, and it is not free: each large allocation then costs fresh pages
    /// zeroed by the kernel (measured: 26 % longer training, 35 % fewer predictions per second on 2 CPU cores).
    /// </remarks>
    public static bool LimitRetention(int thresholdBytes = 1 << 20)
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
