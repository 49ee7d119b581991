// Marks one symbol-version need of an ELF shared library as weak, so that the dynamic loader accepts the
// library on systems whose libstdc++ predates that version.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so needs GLIBCXX_3.4.32 only for the symbol
// _ZSt21ios_base_library_initv, which GCC 13 emits as a bare reference without any relocation. Debian 12 and
// Ubuntu 22.04 ship GLIBCXX_3.4.30, so the loader refuses the whole library. Setting VER_FLG_WEAK (0x2) on that
// one Vernaux entry makes the loader tolerate the missing version; nothing else in the file changes.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (from TiledEnsemble.NativeCompat.targets, for
// every build on Linux) and by the test project, which defines TILEDENSEMBLE_NO_MSBUILD_TASK to leave out the
// MSBuild task shell. It must therefore compile against netstandard2.0 and use nothing beyond the BCL.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TiledEnsemble.Build
{
    /// <summary>What <see cref="ElfVersionPatcher.MarkVersionNeedWeak"/> did to a file.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The file does not need the version at all; it was not touched.</summary>
        NotNeeded,

        /// <summary>The need was already weak; the file was not touched.</summary>
        AlreadyWeak,

        /// <summary>The need was made weak; only the two flag bytes changed.</summary>
        Patched,
    }

    /// <summary>Reads and edits the version-needs section (.gnu.version_r) of ELF files.</summary>
    public static class ElfVersionPatcher
    {
        /// <summary>The version that TorchSharp 0.107.0's native library needs and older distributions lack.</summary>
        public const string GlibcxxVersion = "GLIBCXX_3.4.32";

        /// <summary>The native library that carries the need.</summary>
        public const string LibTorchSharpFileName = "libLibTorchSharp.so";

        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>Returns whether <paramref name="path"/> needs <paramref name="version"/> and whether that need is
        /// weak.</summary>
        /// <exception cref="InvalidDataException">The file is not a well-formed ELF file.</exception>
        public static (bool Needed, bool Weak) GetVersionNeed(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var entry = FindVernaux(bytes, path, version);
            if (entry < 0)
            {
                return (false, false);
            }

            var flags = new ElfImage(bytes, path).ReadU16(entry + 4);
            return (true, (flags & VerFlagWeak) != 0);
        }

        /// <summary>Returns whether the ELF file at <paramref name="path"/> defines the symbol version
        /// <paramref name="version"/>.</summary>
        /// <exception cref="InvalidDataException">The file is not a well-formed ELF file.</exception>
        public static bool DefinesVersion(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var elf = new ElfImage(bytes, path);
            foreach (var section in elf.Sections())
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                var strings = elf.Section(section.Link);
                long offset = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    elf.Require(offset, 20, "Verdef entry");
                    long aux = offset + elf.ReadU32(offset + 12);
                    elf.Require(aux, 8, "Verdaux entry");
                    if (elf.ReadString(strings, elf.ReadU32(aux)) == version)
                    {
                        return true;
                    }

                    uint next = elf.ReadU32(offset + 16);
                    if (next == 0)
                    {
                        break;
                    }

                    offset += next;
                }
            }

            return false;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the need for <paramref name="version"/> in <paramref name="path"/>. Idempotent. The
        /// file is replaced atomically (write beside it, then rename), which also breaks any hard link to a package
        /// cache, and keeps its timestamp so that incremental builds do not copy it again.
        /// </summary>
        /// <exception cref="InvalidDataException">The file is not a well-formed ELF file.</exception>
        public static ElfPatchOutcome MarkVersionNeedWeak(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var entry = FindVernaux(bytes, path, version);
            if (entry < 0)
            {
                return ElfPatchOutcome.NotNeeded;
            }

            var elf = new ElfImage(bytes, path);
            var flags = elf.ReadU16(entry + 4);
            if ((flags & VerFlagWeak) != 0)
            {
                return ElfPatchOutcome.AlreadyWeak;
            }

            elf.WriteU16(entry + 4, (ushort)(flags | VerFlagWeak));
            var timestamp = File.GetLastWriteTimeUtc(path);
            var temporary = path + ".tiledensemble-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.WriteAllBytes(temporary, bytes);
                File.SetLastWriteTimeUtc(temporary, timestamp);

                // A rename, so readers never see a half-written library and a hard link into a package cache is broken
                // instead of written through.
                File.Replace(temporary, path, destinationBackupFileName: null);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }

            return ElfPatchOutcome.Patched;
        }

        /// <summary>
        /// Finds every <see cref="LibTorchSharpFileName"/> below <paramref name="directories"/> and makes its need for
        /// <see cref="GlibcxxVersion"/> weak, unless the system's libstdc++ already provides that version (pass
        /// <paramref name="force"/> to patch regardless). Returns the files that were changed.
        /// </summary>
        public static IReadOnlyList<string> PatchOutputDirectories(
            IEnumerable<string> directories,
            bool force,
            Action<string> log
        )
        {
            var patched = new List<string>();
            if (!force)
            {
                var provider = FindSystemLibStdCxxProviding(GlibcxxVersion);
                if (provider != null)
                {
                    log($"{provider} provides {GlibcxxVersion}; {LibTorchSharpFileName} needs no change.");
                    return patched;
                }
            }

            foreach (var directory in directories)
            {
                if (string.IsNullOrWhiteSpace(directory) || !Directory.Exists(directory))
                {
                    continue;
                }

                foreach (
                    var file in Directory.EnumerateFiles(directory, LibTorchSharpFileName, SearchOption.AllDirectories)
                )
                {
                    var outcome = MarkVersionNeedWeak(file, GlibcxxVersion);
                    if (outcome == ElfPatchOutcome.Patched)
                    {
                        patched.Add(file);
                        log($"Marked the {GlibcxxVersion} need of {file} as weak (the system libstdc++ lacks it).");
                    }
                }
            }

            return patched;
        }

        /// <summary>Returns the first system libstdc++ that defines <paramref name="version"/>, or null when none
        /// does.</summary>
        public static string? FindSystemLibStdCxxProviding(string version)
        {
            var candidates = new List<string>();
            var fromEnvironment = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                candidates.AddRange(fromEnvironment!.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            }

            candidates.AddRange(
                new[]
                {
                    "/usr/lib/x86_64-linux-gnu",
                    "/lib/x86_64-linux-gnu",
                    "/usr/lib/aarch64-linux-gnu",
                    "/lib/aarch64-linux-gnu",
                    "/usr/lib64",
                    "/lib64",
                    "/usr/lib",
                    "/lib",
                }
            );
            foreach (var directory in candidates)
            {
                var candidate = Path.Combine(directory, "libstdc++.so.6");
                if (!File.Exists(candidate))
                {
                    continue;
                }

                try
                {
                    if (DefinesVersion(candidate, version))
                    {
                        return candidate;
                    }
                }
                catch (InvalidDataException)
                {
                    // A foreign-architecture or damaged copy says nothing about the loader's libstdc++.
                }
            }

            return null;
        }

        /// <summary>Returns the file offset of the Vernaux entry named <paramref name="version"/>, or -1.</summary>
        private static long FindVernaux(byte[] bytes, string path, string version)
        {
            var elf = new ElfImage(bytes, path);
            foreach (var section in elf.Sections())
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                var strings = elf.Section(section.Link);
                long need = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    elf.Require(need, 16, "Verneed entry");
                    ushort count = elf.ReadU16(need + 2);
                    long aux = need + elf.ReadU32(need + 8);
                    for (int j = 0; j < count; j++)
                    {
                        elf.Require(aux, 16, "Vernaux entry");
                        if (elf.ReadString(strings, elf.ReadU32(aux + 8)) == version)
                        {
                            return aux;
                        }

                        uint nextAux = elf.ReadU32(aux + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = elf.ReadU32(need + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    need += next;
                }
            }

            return -1;
        }

        private readonly struct SectionHeader
        {
            public SectionHeader(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }

            public uint Info { get; }
        }

        /// <summary>Bounds-checked view of an ELF file held in memory; every read names the file when it
        /// fails.</summary>
        private sealed class ElfImage
        {
            private readonly byte[] _bytes;
            private readonly string _path;
            private readonly bool _is64;
            private readonly bool _littleEndian;

            public ElfImage(byte[] bytes, string path)
            {
                _bytes = bytes;
                _path = path;
                if (
                    bytes.Length < 52
                    || bytes[0] != 0x7f
                    || bytes[1] != (byte)'E'
                    || bytes[2] != (byte)'L'
                    || bytes[3] != (byte)'F'
                )
                {
                    throw new InvalidDataException(
                        $"'{path}' is not an ELF file (expected the magic bytes 7F 45 4C 46 and at least 52 bytes, "
                            + $"got {bytes.Length} bytes)."
                    );
                }

                _is64 = bytes[4] switch
                {
                    1 => false,
                    2 => true,
                    _ => throw new InvalidDataException(
                        $"'{path}' has an unknown ELF class {bytes[4]} (expected 1 for 32-bit or 2 for 64-bit)."
                    ),
                };
                _littleEndian = bytes[5] switch
                {
                    1 => true,
                    2 => false,
                    _ => throw new InvalidDataException(
                        $"'{path}' has an unknown ELF data encoding {bytes[5]} (expected 1 or 2)."
                    ),
                };
                if (_is64 && bytes.Length < 64)
                {
                    throw new InvalidDataException(
                        $"'{path}' is truncated: a 64-bit ELF header needs 64 bytes, the file has {bytes.Length}."
                    );
                }
            }

            public IEnumerable<SectionHeader> Sections()
            {
                long tableOffset = _is64 ? (long)ReadU64(0x28) : ReadU32(0x20);
                int entrySize = ReadU16(_is64 ? 0x3A : 0x2E);
                int count = ReadU16(_is64 ? 0x3C : 0x30);
                if (count == 0)
                {
                    yield break;
                }

                int minimum = _is64 ? 64 : 40;
                if (entrySize < minimum)
                {
                    throw new InvalidDataException(
                        $"'{_path}' declares section headers of {entrySize} bytes; at least {minimum} are expected."
                    );
                }

                Require(tableOffset, (long)entrySize * count, "section header table");
                for (int i = 0; i < count; i++)
                {
                    yield return ReadSection(tableOffset + (long)i * entrySize);
                }
            }

            public SectionHeader Section(uint index)
            {
                long tableOffset = _is64 ? (long)ReadU64(0x28) : ReadU32(0x20);
                int entrySize = ReadU16(_is64 ? 0x3A : 0x2E);
                int count = ReadU16(_is64 ? 0x3C : 0x30);
                if (index >= count)
                {
                    throw new InvalidDataException(
                        $"'{_path}' links to section {index}, but it has only {count} sections."
                    );
                }

                return ReadSection(tableOffset + (long)index * entrySize);
            }

            public void Require(long offset, long length, string what)
            {
                if (offset < 0 || length < 0 || offset > _bytes.Length - length)
                {
                    throw new InvalidDataException(
                        $"'{_path}' is truncated or malformed: the {what} at offset {offset} ({length} bytes) lies "
                            + $"outside the file of {_bytes.Length} bytes."
                    );
                }
            }

            public ushort ReadU16(long offset)
            {
                Require(offset, 2, "16-bit field");
                int a = _bytes[offset],
                    b = _bytes[offset + 1];
                return (ushort)(_littleEndian ? a | (b << 8) : (a << 8) | b);
            }

            public void WriteU16(long offset, ushort value)
            {
                Require(offset, 2, "16-bit field");
                byte low = (byte)(value & 0xff),
                    high = (byte)(value >> 8);
                _bytes[offset] = _littleEndian ? low : high;
                _bytes[offset + 1] = _littleEndian ? high : low;
            }

            public uint ReadU32(long offset)
            {
                Require(offset, 4, "32-bit field");
                uint result = 0;
                for (int i = 0; i < 4; i++)
                {
                    int shift = _littleEndian ? 8 * i : 8 * (3 - i);
                    result |= (uint)_bytes[offset + i] << shift;
                }

                return result;
            }

            public ulong ReadU64(long offset)
            {
                Require(offset, 8, "64-bit field");
                ulong result = 0;
                for (int i = 0; i < 8; i++)
                {
                    int shift = _littleEndian ? 8 * i : 8 * (7 - i);
                    result |= (ulong)_bytes[offset + i] << shift;
                }

                return result;
            }

            public string ReadString(SectionHeader table, uint index)
            {
                if (index >= table.Size)
                {
                    throw new InvalidDataException(
                        $"'{_path}' refers to string {index} beyond its string table of {table.Size} bytes."
                    );
                }

                Require(table.Offset, table.Size, "string table");
                long start = table.Offset + index;
                long end = start;
                long limit = table.Offset + table.Size;
                while (end < limit && _bytes[end] != 0)
                {
                    end++;
                }

                return Encoding.ASCII.GetString(_bytes, (int)start, (int)(end - start));
            }

            private SectionHeader ReadSection(long at)
            {
                if (_is64)
                {
                    Require(at, 64, "section header");
                    return new SectionHeader(
                        ReadU32(at + 4),
                        CheckedOffset(ReadU64(at + 24)),
                        CheckedOffset(ReadU64(at + 32)),
                        ReadU32(at + 40),
                        ReadU32(at + 44)
                    );
                }

                Require(at, 40, "section header");
                return new SectionHeader(
                    ReadU32(at + 4),
                    ReadU32(at + 16),
                    ReadU32(at + 20),
                    ReadU32(at + 24),
                    ReadU32(at + 28)
                );
            }

            private long CheckedOffset(ulong value)
            {
                if (value > (ulong)_bytes.Length)
                {
                    throw new InvalidDataException(
                        $"'{_path}' is truncated or malformed: a section offset or size of {value} exceeds the file "
                            + $"size {_bytes.Length}."
                    );
                }

                return (long)value;
            }
        }
    }

#if !TILEDENSEMBLE_NO_MSBUILD_TASK
    /// <summary>MSBuild task: patches the copies of libLibTorchSharp.so in the given output folders.</summary>
    public sealed class PatchLibTorchSharpGlibcxxNeed : Microsoft.Build.Utilities.Task
    {
        /// <summary>Output folders to search (OutDir, PublishDir).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Directories { get; set; } =
            Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>'auto' patches only when the system libstdc++ lacks the version; 'always' patches
        /// regardless.</summary>
        public string Mode { get; set; } = "auto";

        /// <summary>The files that were changed.</summary>
        [Microsoft.Build.Framework.Output]
        public Microsoft.Build.Framework.ITaskItem[] PatchedFiles { get; set; } =
            Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            if (
                !string.Equals(Mode, "auto", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(Mode, "always", StringComparison.OrdinalIgnoreCase)
            )
            {
                Log.LogError($"TiledEnsemblePatchLibTorchSharp must be 'auto', 'always' or 'never'; got '{Mode}'.");
                return false;
            }

            try
            {
                var folders = new List<string>();
                foreach (var item in Directories)
                {
                    folders.Add(item.ItemSpec);
                }

                var force = string.Equals(Mode, "always", StringComparison.OrdinalIgnoreCase);
                var patched = ElfVersionPatcher.PatchOutputDirectories(folders, force, message =>
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, message)
                );
                var items = new List<Microsoft.Build.Framework.ITaskItem>();
                foreach (var file in patched)
                {
                    items.Add(new Microsoft.Build.Utilities.TaskItem(file));
                }

                PatchedFiles = items.ToArray();
                return true;
            }
            catch (Exception exception) when (exception is IOException || exception is UnauthorizedAccessException)
            {
                Log.LogError(
                    $"Could not patch {ElfVersionPatcher.LibTorchSharpFileName} for older libstdc++: "
                        + $"{exception.Message}"
                );
                return false;
            }
        }
    }
#endif
}
