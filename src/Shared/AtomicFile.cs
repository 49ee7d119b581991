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
}
