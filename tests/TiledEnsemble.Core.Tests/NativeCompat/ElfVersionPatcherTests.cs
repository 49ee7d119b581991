using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Build;
using Xunit;

namespace TiledEnsemble.Tests.NativeCompat;

public sealed class ElfVersionPatcherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("elfpatch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void SetsTheWeakFlagOnTheNamedNeedAndChangesNothingElse()
    {
        var (bytes, flags) = CraftedElf.Build(
            new[] { ("GLIBCXX_3.4.21", (ushort)0), ("GLIBCXX_3.4.32", (ushort)0), ("CXXABI_1.3", (ushort)0) }
        );
        var path = CraftedElf.Write(_directory, "libLibTorchSharp.so", bytes);

        Assert.Equal((true, false), ElfVersionPatcher.GetVersionNeed(path, "GLIBCXX_3.4.32"));
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32"));

        var after = File.ReadAllBytes(path);
        var expected = (byte[])bytes.Clone();
        expected[flags[1]] = 0x02; // VER_FLG_WEAK, little-endian low byte of vna_flags
        Assert.Equal(expected, after);
        Assert.Equal((true, true), ElfVersionPatcher.GetVersionNeed(path, "GLIBCXX_3.4.32"));
        Assert.Equal((true, false), ElfVersionPatcher.GetVersionNeed(path, "GLIBCXX_3.4.21"));
    }

    [Fact]
    public void IsIdempotentAndKeepsOtherFlagBits()
    {
        var (bytes, flags) = CraftedElf.Build(new[] { ("GLIBCXX_3.4.32", (ushort)0x1) });
        var path = CraftedElf.Write(_directory, "lib.so", bytes);
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32"));
        var once = File.ReadAllBytes(path);
        Assert.Equal(0x3, once[flags[0]]);
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32"));
        Assert.Equal(once, File.ReadAllBytes(path));
    }

    [Fact]
    public void LeavesFilesWithoutTheNeedUntouched()
    {
        var (bytes, _) = CraftedElf.Build(new[] { ("GLIBCXX_3.4.21", (ushort)0) });
        var path = CraftedElf.Write(_directory, "lib.so", bytes);
        var before = File.GetLastWriteTimeUtc(path);
        Assert.Equal(ElfPatchOutcome.NotNeeded, ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32"));
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(before, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void PatchingAnOutputFolderTouchesOnlyLibTorchSharp()
    {
        var (bytes, flags) = CraftedElf.Build(new[] { ("GLIBCXX_3.4.32", (ushort)0) });
        var target = CraftedElf.Write(
            _directory,
            Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            bytes
        );
        var other = CraftedElf.Write(
            _directory,
            Path.Combine("runtimes", "linux-x64", "native", "libtorch_cpu.so"),
            bytes
        );

        var patched = ElfVersionPatcher.PatchOutputDirectories(new[] { _directory }, force: true, _ => { });

        Assert.Equal(new[] { target }, patched.ToArray());
        Assert.Equal(0x2, File.ReadAllBytes(target)[flags[0]]);
        Assert.Equal(bytes, File.ReadAllBytes(other));
        Assert.Empty(ElfVersionPatcher.PatchOutputDirectories(new[] { _directory }, force: true, _ => { }));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void ReplacingTheFileBreaksHardLinksInsteadOfWritingThrough()
    {
        var (bytes, _) = CraftedElf.Build(new[] { ("GLIBCXX_3.4.32", (ushort)0) });
        var cache = CraftedElf.Write(_directory, "cache.so", bytes);
        var output = Path.Combine(_directory, "libLibTorchSharp.so");
        File.Copy(cache, output);
        ElfVersionPatcher.MarkVersionNeedWeak(output, "GLIBCXX_3.4.32");
        Assert.Equal(bytes, File.ReadAllBytes(cache));
    }

    [Fact]
    public void ReadsVersionDefinitions()
    {
        var (bytes, _) = CraftedElf.Build(
            new[] { ("GLIBC_2.2.5", (ushort)0) },
            new[] { "GLIBCXX_3.4", "GLIBCXX_3.4.32" }
        );
        var path = CraftedElf.Write(_directory, "libstdc++.so.6", bytes);
        Assert.True(ElfVersionPatcher.DefinesVersion(path, "GLIBCXX_3.4.32"));
        Assert.False(ElfVersionPatcher.DefinesVersion(path, "GLIBCXX_3.4.33"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(63)]
    [InlineData(200)]
    public void TruncatedFilesGiveAClearErrorNamingTheFile(int length)
    {
        var (bytes, _) = CraftedElf.Build(new[] { ("GLIBCXX_3.4.32", (ushort)0) });
        var path = CraftedElf.Write(_directory, "truncated.so", bytes.Take(length).ToArray());
        var error = Assert.Throws<InvalidDataException>(() =>
            ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32")
        );
        Assert.Contains(path, error.Message);
        Assert.Equal(length, new FileInfo(path).Length);
    }

    [Fact]
    public void NonElfInputGivesAClearError()
    {
        var path = Path.Combine(_directory, "readme.txt");
        File.WriteAllText(path, new string('x', 100));
        var error = Assert.Throws<InvalidDataException>(() =>
            ElfVersionPatcher.MarkVersionNeedWeak(path, "GLIBCXX_3.4.32")
        );
        Assert.Contains("not an ELF file", error.Message);
    }
}
