using System;
using System.IO;
using TiledEnsemble.Persistence;

namespace TiledEnsemble.Testing;

/// <summary>
/// Copies of the first-format run fixture (<c>Golden/run-v1</c>) for tests that craft hostile run folders, and the
/// resealing anyone can do after editing a manifest (its checksum detects damage, not tampering). Shared by the
/// library's and the command line's tests.
/// </summary>
internal static class RunFixtureCopies
{
    /// <summary>The fixture's folder in the test output: <c>run</c> and <c>image.png</c>.</summary>
    public static string Fixture => Path.Combine(AppContext.BaseDirectory, "Golden", "run-v1");

    /// <summary>The fixture's image.</summary>
    public static string Image => Path.Combine(Fixture, "image.png");

    /// <summary>Copies the fixture's run to <paramref name="work"/>/<paramref name="name"/>; returns it.</summary>
    public static string Copy(string work, string name)
    {
        var source = Path.Combine(Fixture, "run");
        var run = Path.Combine(work, name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return run;
    }

    /// <summary>Edits the run's manifest and writes it back with a valid checksum.</summary>
    public static void Reseal(string run, Action<RunManifest> edit)
    {
        var manifest = RunStore.ReadManifest(run);
        edit(manifest);
        RunStore.WriteManifest(run, manifest);
    }
}
