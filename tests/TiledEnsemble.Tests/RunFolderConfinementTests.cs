using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Persistence;
using TiledEnsemble.Serialization;
using TiledEnsemble.Testing;
using Xunit;

namespace TiledEnsemble.Tests;

/// <summary>
/// A run folder from a stranger, edited and resealed as anyone can (the manifest's checksum detects damage, not
/// tampering): nothing outside the folder is read, hashed or named, no special file is opened, and damaged weights are
/// refused instead of scoring every image NaN.
/// </summary>
public sealed class RunFolderConfinementTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("run-confinement-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Fixture => RunFixtureCopies.Fixture;

    private static string Image => RunFixtureCopies.Image;

    private string CopyRun(string name) => RunFixtureCopies.Copy(_work, name);

    private static void Reseal(string run, Action<RunManifest> edit) => RunFixtureCopies.Reseal(run, edit);

    private static Exception LoadAndPredict(string run) =>
        Assert.ThrowsAny<IOException>(() =>
        {
            using var ensemble = Ensemble.Load(run);
            ensemble.Predict(Image).Dispose();
        });

    [Fact]
    public void AManifestHoldingAKeyTwiceIsRefusedNamingTheKeyEvenWhenResealed()
    {
        var run = CopyRun("duplicate-key");
        var path = Path.Combine(run, "manifest.json");
        var text = File.ReadAllText(path);
        int settings = text.IndexOf("\"Settings\": {", StringComparison.Ordinal);
        Assert.True(settings > 0);
        int open = text.IndexOf('{', settings) + 1;
        text = text.Insert(open, "\"Seed\": 999,");

        File.WriteAllText(path, ManifestSeal.Reseal(text));

        var error = Assert.Throws<RunIntegrityException>(() => Ensemble.Load(run).Dispose());
        Assert.Contains("'$.Settings.Seed' twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestEntriesLeadingOutOfTheFolderAreRefusedWithoutReadingTheFile()
    {
        // A file outside the run whose checksum the attacker puts in the manifest: the error must not confirm it.
        var secret = Path.Combine(_work, "secret.safetensors");
        File.Copy(Path.Combine(Fixture, "run", "positions", "r0_c0.safetensors"), secret);
        var secretHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(secret)));
        foreach (var (name, entry) in new[] { ("relative", "../secret.safetensors"), ("absolute", secret) })
        {
            var run = CopyRun(name);
            Reseal(run, m =>
            {
                m.Positions[0].State.File = entry;
                m.Positions[0].State.Sha256 = secretHash.ToLowerInvariant();
            });
            var error = LoadAndPredict(run);
            Assert.IsType<RunIntegrityException>(error);
            Assert.Contains($"the manifest names '{entry}'", error.Message);
            Assert.DoesNotContain(secretHash, error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void SymbolicLinksInsideTheRunAreRefused()
    {
        // The positions folder replaced by a link to an identical copy elsewhere: same bytes, same checksums.
        var run = CopyRun("linked-positions");
        var elsewhere = Path.Combine(_work, "elsewhere");
        Directory.Move(Path.Combine(run, "positions"), elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(run, "positions"), elsewhere);
        Assert.Contains("symbolic link", LoadAndPredict(run).Message);

        // The evaluation folder as a link: evaluation would overwrite files elsewhere.
        var evaluated = CopyRun("linked-evaluation");
        Directory.CreateSymbolicLink(Path.Combine(evaluated, "evaluation"), Path.Combine(_work, "victim"));
        Assert.Contains("symbolic link", LoadAndPredict(evaluated).Message);

        // A weights file as a link.
        var weights = CopyRun("linked-weights");
        var backbone = Path.Combine(weights, "backbone.safetensors");
        File.Move(backbone, Path.Combine(_work, "backbone.safetensors"));
        File.CreateSymbolicLink(backbone, Path.Combine(_work, "backbone.safetensors"));
        Assert.Contains("symbolic link", LoadAndPredict(weights).Message);
    }

    [Fact]
    public void AFifoInPlaceOfAWeightsFileIsRefusedInsteadOfBlocking()
    {
        Assert.True(OperatingSystem.IsLinux(), "FIFOs are a Linux test; CI runs Linux.");
        var run = CopyRun("fifo");
        RunFixtureCopies.ReplaceWithFifo(Path.Combine(run, "backbone.safetensors"));

        var watch = Stopwatch.StartNew();
        Assert.Contains("not a regular file", LoadAndPredict(run).Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void NonFiniteWeightsAreRefusedAtLoadNamingTheTensor()
    {
        var run = CopyRun("nan");
        RunFixtureCopies.DamageWithNaN(run, 0, 1);
        var error = LoadAndPredict(run);
        Assert.IsType<SafeTensorsException>(error);
        Assert.Contains("holds NaN or infinite values", error.Message);
        Assert.Contains("r0_c1.safetensors", error.Message);
    }
}
