using System;
using System.IO;

namespace TiledEnsemble.Cli;

/// <summary>Comparisons of folder paths as the file system resolves them.</summary>
internal static class FolderPaths
{
    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies inside it (after resolving both to
    /// full paths; symbolic links of the folder itself followed).</summary>
    public static bool IsSameOrInside(string path, string folder)
    {
        var parent = Resolved(folder);
        var child = Resolved(path);
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return string.Equals(child, parent, comparison)
            || child.StartsWith(parent + Path.DirectorySeparatorChar, comparison);
    }

    private static string Resolved(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var info = new DirectoryInfo(full);
        var target = info.Exists ? info.ResolveLinkTarget(returnFinalTarget: true) : null;
        return target is null ? full : Path.GetFullPath(target.FullName).TrimEnd(Path.DirectorySeparatorChar);
    }
}
