using System;
using System.IO;

namespace TiledEnsemble.Data.Tests;

public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tiledensemble-data-").FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine(new[] { Path }.Concat(parts));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException) { }
    }
}

internal static class PathExtensions
{
    public static string[] Concat(this string[] first, string[] second)
    {
        var all = new string[first.Length + second.Length];
        first.CopyTo(all, 0);
        second.CopyTo(all, first.Length);
        return all;
    }
}
