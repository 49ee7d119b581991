using System;
using System.Runtime.InteropServices;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class NativeAllocatorTests
{
    [Fact]
    public void LimitRetentionAppliesOnLinuxAndRefusesANonPositiveThreshold()
    {
        // This test machine is Linux with glibc; elsewhere the call reports that nothing was set.
        Assert.Equal(RuntimeInformation.IsOSPlatform(OSPlatform.Linux), NativeAllocator.LimitRetention(1 << 20));
        Assert.Contains("thresholdBytes", Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.LimitRetention(0)).Message);
    }
}
