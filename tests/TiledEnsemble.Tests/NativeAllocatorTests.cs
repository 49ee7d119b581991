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
        Assert.Contains(
            "thresholdBytes",
            Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.LimitRetention(0)).Message
        );
        Assert.Equal(Linux ? NativeAllocator.DefaultThresholdBytes : 0, NativeAllocator.AppliedThresholdBytes);
    }
}
