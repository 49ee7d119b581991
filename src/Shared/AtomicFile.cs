using System;
using System.IO;

namespace TiledEnsemble;

/// <summary>
/// Writes files beside their destination and renames them over it, so readers never see half a file and a failed write
/// (a full disk, a crash) never leaves a truncated one under the final name. Shared as source by every library and the
/// command line.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; with <paramref name="overwrite"/> off,
    /// fails (IOException) when the file exists.</summary>
    public static void Write(string path, Action<Stream> write, bool overwrite = true)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, TemporaryName(Path.GetFileName(full)));
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes, bool overwrite = true) =>
        Write(path, stream => stream.Write(bytes), overwrite);

    /// <summary>Writes <paramref name="text"/> as UTF-8 to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A hidden name beside <paramref name="name"/> for writing it: the name itself with a random suffix, or the suffix
    /// alone where that would pass the 255 bytes file systems allow a name (legal names up to that length must work).
    /// </summary>
    internal static string TemporaryName(string name)
    {
        var suffix = $".{Guid.NewGuid():N}.tmp";
        return System.Text.Encoding.UTF8.GetByteCount(name) + 1 + suffix.Length <= 255 ? $".{name}{suffix}" : suffix;
    }

    /// <summary>
    /// Deletes the temporaries that writers killed mid-write (kill -9, power loss) left under
    /// <paramref name="directory"/>: files named as <see cref="TemporaryName"/> names them that no process holds open.
    /// A live writer holds its temporary open, and .NET locks open files (flock), so the exclusive open that tests a
    /// file fails for it and it is left alone.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static int SweepAbandoned(string directory, bool recursive = false)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        int removed = 0;
        var option = recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly;
        foreach (var file in Directory.EnumerateFiles(directory, ".*.tmp", option))
        {
            if (!IsTemporaryName(Path.GetFileName(file)) || new FileInfo(file).LinkTarget is not null)
            {
                continue;
            }

            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(file);
                removed++;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Held by a live writer, renamed away meanwhile, or not ours to delete: leave it.
            }
        }

        return removed;
    }

    /// <summary>Whether <paramref name="name"/> has the form of <see cref="TemporaryName"/>'s names.</summary>
    internal static bool IsTemporaryName(string name) =>
        name.Length >= 37
        && name[0] == '.'
        && name.EndsWith(".tmp", StringComparison.Ordinal)
        && name[^37] == '.'
        && name.AsSpan(name.Length - 36, 32).IndexOfAnyExcept("0123456789abcdef") < 0;
}
