using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TiledEnsemble.Tests.NativeCompat;

/// <summary>
/// Writes minimal 64-bit little-endian ELF files with a .dynstr and a .gnu.version_r section, laid out by hand from the
/// ELF specification, so the patcher is tested on a file that no toolchain produced.
/// </summary>
internal static class CraftedElf
{
    /// <summary>Builds an ELF needing, from "libstdc++.so.6", the given versions (with flags), and defining
    /// <paramref name="defines"/>.</summary>
    /// <returns>The bytes and the file offsets of each Vernaux's vna_flags field.</returns>
    public static (byte[] Bytes, int[] FlagOffsets) Build(
        IReadOnlyList<(string Name, ushort Flags)> needs,
        IReadOnlyList<string>? defines = null
    )
    {
        defines ??= Array.Empty<string>();
        var dynstr = new List<byte> { 0 };
        int AddString(string s)
        {
            int at = dynstr.Count;
            dynstr.AddRange(Encoding.ASCII.GetBytes(s));
            dynstr.Add(0);
            return at;
        }

        int file = AddString("libstdc++.so.6");
        var needNames = new List<int>();
        foreach (var need in needs)
        {
            needNames.Add(AddString(need.Name));
        }

        var defineNames = new List<int>();
        foreach (var name in defines)
        {
            defineNames.Add(AddString(name));
        }

        var shstr = new List<byte> { 0 };
        int AddSectionName(string s)
        {
            int at = shstr.Count;
            shstr.AddRange(Encoding.ASCII.GetBytes(s));
            shstr.Add(0);
            return at;
        }

        int dynstrName = AddSectionName(".dynstr");
        int verneedName = AddSectionName(".gnu.version_r");
        int verdefName = AddSectionName(".gnu.version_d");
        int shstrName = AddSectionName(".shstrtab");

        var body = new List<byte>();
        const int headerSize = 64;
        int dynstrOffset = headerSize;
        body.AddRange(dynstr);
        Align(body, 8);

        // Verneed: one entry (16 bytes) followed by its Vernaux entries (16 bytes each).
        int verneedOffset = headerSize + body.Count;
        var flagOffsets = new int[needs.Count];
        Put16(body, 1);
        Put16(body, (ushort)needs.Count);
        Put32(body, (uint)file);
        Put32(body, 16);
        Put32(body, 0);
        for (int i = 0; i < needs.Count; i++)
        {
            Put32(body, (uint)(i + 2)); // vna_hash: any value
            flagOffsets[i] = headerSize + body.Count;
            Put16(body, needs[i].Flags);
            Put16(body, (ushort)(i + 2));
            Put32(body, (uint)needNames[i]);
            Put32(body, i == needs.Count - 1 ? 0u : 16u);
        }

        int verneedSize = headerSize + body.Count - verneedOffset;
        int verdefOffset = headerSize + body.Count;
        for (int i = 0; i < defines.Count; i++)
        {
            Put16(body, 1);
            Put16(body, 0);
            Put16(body, (ushort)(i + 1));
            Put16(body, 1);
            Put32(body, 0);
            Put32(body, 20);
            Put32(body, i == defines.Count - 1 ? 0u : 28u);
            Put32(body, (uint)defineNames[i]);
            Put32(body, 0);
        }

        int verdefSize = headerSize + body.Count - verdefOffset;
        int shstrOffset = headerSize + body.Count;
        body.AddRange(shstr);
        Align(body, 8);
        int sectionTable = headerSize + body.Count;

        var sections = new List<byte>();
        AddSection(sections, 0, 0, 0, 0, 0, 0);
        AddSection(sections, (uint)dynstrName, 3, dynstrOffset, dynstr.Count, 0, 0);
        AddSection(sections, (uint)verneedName, 0x6ffffffe, verneedOffset, verneedSize, 1, 1);
        AddSection(sections, (uint)verdefName, 0x6ffffffd, verdefOffset, verdefSize, 1, (uint)defines.Count);
        AddSection(sections, (uint)shstrName, 3, shstrOffset, shstr.Count, 0, 0);

        var header = new List<byte>();
        header.AddRange(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0 });
        header.AddRange(new byte[8]);
        Put16(header, 3); // e_type ET_DYN
        Put16(header, 62); // e_machine x86-64
        Put32(header, 1); // e_version
        Put64(header, 0); // e_entry
        Put64(header, 0); // e_phoff
        Put64(header, (ulong)sectionTable);
        Put32(header, 0); // e_flags
        Put16(header, 64); // e_ehsize
        Put16(header, 0); // e_phentsize
        Put16(header, 0); // e_phnum
        Put16(header, 64); // e_shentsize
        Put16(header, 5); // e_shnum
        Put16(header, 4); // e_shstrndx

        var bytes = new List<byte>(header);
        bytes.AddRange(body);
        bytes.AddRange(sections);
        return (bytes.ToArray(), flagOffsets);
    }

    public static string Write(string directory, string name, byte[] bytes)
    {
        var path = Path.Combine(directory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AddSection(List<byte> table, uint name, uint type, long offset, long size, uint link, uint info)
    {
        Put32(table, name);
        Put32(table, type);
        Put64(table, 0);
        Put64(table, 0);
        Put64(table, (ulong)offset);
        Put64(table, (ulong)size);
        Put32(table, link);
        Put32(table, info);
        Put64(table, 1);
        Put64(table, 0);
    }

    private static void Align(List<byte> bytes, int alignment)
    {
        while (bytes.Count % alignment != 0)
        {
            bytes.Add(0);
        }
    }

    private static void Put16(List<byte> b, ushort v) => b.AddRange(BitConverter.GetBytes(v));

    private static void Put32(List<byte> b, uint v) => b.AddRange(BitConverter.GetBytes(v));

    private static void Put64(List<byte> b, ulong v) => b.AddRange(BitConverter.GetBytes(v));
}
