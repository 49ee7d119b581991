using System;
using System.IO;
using System.Runtime.InteropServices;
using TiledEnsemble.Build;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.NativeCompat;

public class TorchSharpLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndComputesOnThisMachine()
    {
        using var scope = NewDisposeScope();
        var product = matmul(ones(2, 3), ones(3, 4));
        Assert.Equal(24f, product.sum().item<float>());
    }

    [Fact]
    public void TheBuildOutputCopyIsPatchedWhenTheSystemLibStdCxxLacksTheVersion()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return; // the target is a no-op elsewhere, and so is this check
        }

        var copy = Path.Combine(
            AppContext.BaseDirectory,
            "runtimes",
            "linux-x64",
            "native",
            ElfVersionPatcher.LibTorchSharpFileName
        );
        Assert.True(File.Exists(copy), $"expected TorchSharp's native library at {copy}");
        var (needed, weak) = ElfVersionPatcher.GetVersionNeed(copy, ElfVersionPatcher.GlibcxxVersion);
        var systemProvides =
            ElfVersionPatcher.FindSystemLibStdCxxProviding(ElfVersionPatcher.GlibcxxVersion) is not null;
        Assert.True(
            !needed || weak || systemProvides,
            $"{copy} needs {ElfVersionPatcher.GlibcxxVersion} strongly and the system libstdc++ lacks it"
        );
    }
}
