using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace TiledEnsemble;

/// <summary>
/// Resolves a file that a folder's own manifest names (a run's weights, an export's graph) strictly inside that folder:
/// no absolute path, no <c>..</c>, no symbolic link on the way, and nothing but a regular file at the end — a folder
/// from a stranger cannot make the library read, hash or overwrite anything outside it, nor block on a FIFO or device.
/// Shared as source by every library and the deployment package.
/// </summary>
internal static class ConfinedFile
{
    /// <summary>
    /// The full path of <paramref name="relative"/> inside <paramref name="folder"/>; <paramref name="fail"/> makes the
    /// exception (given the path to name and the reason). A missing file passes (the caller reports it as missing).
    /// </summary>
    public static string Resolve(string folder, string relative, Func<string, string, Exception> fail)
    {
        var root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (string.IsNullOrEmpty(relative) || relative.Any(char.IsControl) || Path.IsPathRooted(relative))
        {
            throw fail(
                root,
                $"the manifest names '{Printable(relative)}', which is not a relative path inside the folder."
            );
        }

        var parts = relative.Split('/', '\\');
        if (parts.Any(p => p is "" or "." or ".."))
        {
            throw fail(
                root,
                $"the manifest names '{Printable(relative)}', which leads out of the folder or is not plain."
            );
        }

        var current = root;
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null)
            {
                throw fail(current, "is a symbolic link; files of this folder must lie in it.");
            }
        }

        if (!current.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw fail(root, $"the manifest names '{Printable(relative)}', which leads out of the folder.");
        }

        if (File.Exists(current) && IsSpecial(current))
        {
            throw fail(current, "is not a regular file (a FIFO, device or socket); refusing to open it.");
        }

        return current;
    }

    /// <summary>Throws when <paramref name="folder"/> itself is a symbolic link or one of <paramref name="names"/> in
    /// it is (subfolders the library writes into, such as a run's <c>evaluation</c>).</summary>
    public static void RequireNoLinks(string folder, Func<string, string, Exception> fail, params string[] names)
    {
        foreach (var path in names.Select(n => Path.Combine(folder, n)))
        {
            if (new FileInfo(path).LinkTarget is not null)
            {
                throw fail(path, "is a symbolic link; this folder's files must lie in it.");
            }
        }
    }

    /// <summary>Whether <paramref name="path"/> (not followed if a link) is a FIFO, device or socket. Linux asks the
    /// kernel (statx); elsewhere files are taken as regular.</summary>
    public static bool IsSpecial(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var buffer = new byte[256];
        if (Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            return false;
        }

        // stx_mode (u16 at offset 28 of struct statx, the same on every architecture): the type in its top 4 bits.
        int type = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        return type is not (RegularFile or DirectoryType);
    }

    /// <summary>Whether <paramref name="path"/>, followed through any symbolic links, ends at a FIFO, device or
    /// socket.</summary>
    public static bool IsSpecialTarget(string path)
    {
        var target = new FileInfo(path).LinkTarget is null
            ? null
            : File.ResolveLinkTarget(path, returnFinalTarget: true);
        return target is not null && IsSpecial(target.FullName);
    }

    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int RegularFile = 0x8000;
    private const int DirectoryType = 0x4000;

    private static string Printable(string? text) =>
        new((text ?? string.Empty).Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(
        int directory,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string path,
        int flags,
        uint mask,
        byte[] buffer
    );
}
