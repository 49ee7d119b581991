using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using TiledEnsemble.Persistence;
using TiledEnsemble.Serialization;
using static TorchSharp.torch;

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

    /// <summary>Puts a NaN into the first weights tensor of position (<paramref name="row"/>,
    /// <paramref name="column"/>) and reseals the manifest with the file's new checksum; returns the file.</summary>
    public static string DamageWithNaN(string run, int row, int column)
    {
        var state = Path.Combine(run, "positions", $"r{row}_c{column}.safetensors");
        using (var scope = NewDisposeScope())
        {
            var (tensors, metadata) = SafeTensors.Load(state);
            var name = tensors.Keys.First(k => tensors[k].is_floating_point() && tensors[k].numel() > 1);
            var damaged = new Dictionary<string, Tensor>(tensors) { [name] = tensors[name].clone() };
            damaged[name].view(-1)[0] = float.NaN;
            SafeTensors.Save(state, damaged, metadata);
        }

        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(state))).ToLowerInvariant();
        Reseal(run, m => m.Positions.Single(p => p.Row == row && p.Column == column).State.Sha256 = hash);
        return state;
    }

    /// <summary>Replaces the file at <paramref name="path"/> with a FIFO (Linux).</summary>
    public static void ReplaceWithFifo(string path)
    {
        File.Delete(path);
        using var mkfifo = Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0)
        {
            throw new InvalidOperationException($"mkfifo '{path}' exited with {mkfifo.ExitCode}.");
        }
    }

    /// <summary>Edits the run's manifest and writes it back with a valid checksum.</summary>
    public static void Reseal(string run, Action<RunManifest> edit)
    {
        var manifest = RunStore.ReadManifest(run);
        edit(manifest);
        RunStore.WriteManifest(run, manifest);
    }
}
