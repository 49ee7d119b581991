using System;
using System.Runtime.InteropServices;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class NativeAllocatorTests
{
    private static readonly bool Linux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    [Fact]
    public void LimitRetentionAppliesOnLinuxAndRefusesANonPositiveThreshold()
    {
        // This test machine is Linux with glibc; elsewhere the call reports that nothing was set.
        Assert.Equal(Linux, NativeAllocator.LimitRetention(NativeAllocator.DefaultThresholdBytes));
        Assert.Equal(Linux ? NativeAllocator.DefaultThresholdBytes : 0, NativeAllocator.AppliedThresholdBytes);
        Assert.Contains("thresholdBytes", Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.LimitRetention(0)).Message);
        Assert.Equal(Linux ? NativeAllocator.DefaultThresholdBytes : 0, NativeAllocator.AppliedThresholdBytes);
    }

    [Fact]
    public void BuildingAnEnsembleLeavesAFixedThresholdInPlace()
    {
        // Process-wide state: other tests may have set it first, which the ensemble must not override; either way a
        // fixed threshold is in place on Linux once an ensemble exists (unless the environment variable chose one).
        Assert.True(NativeAllocator.AutomaticRetentionLimit);
        using var ensemble = TiledEnsembleBuilder.Create().WithImageSize(64).WithTiling(32, 32).Build();
        bool environmentChose = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;
        Assert.Equal(Linux && !environmentChose, NativeAllocator.AppliedThresholdBytes > 0);
    }
}
