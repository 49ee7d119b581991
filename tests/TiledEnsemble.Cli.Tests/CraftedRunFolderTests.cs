using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Persistence;
using TiledEnsemble.Testing;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// A run folder from a stranger, edited and resealed as anyone can, given to the real <c>predict</c> and <c>eval</c> in
/// their own processes: each is refused within seconds with exit 1 and a message naming the entry, nothing outside the
/// folder is read, hashed, named or written, and no output is written.
/// </summary>
public sealed class CraftedRunFolderTests : IDisposable
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(60);

    private readonly string _work = Directory.CreateTempSubdirectory("crafted-run-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Fixture => RunFixtureCopies.Fixture;

    private string CopyRun(string name) => RunFixtureCopies.Copy(_work, name);

    private static void Reseal(string run, Action<RunManifest> edit) => RunFixtureCopies.Reseal(run, edit);

    private static string Sha256(string path) =>
        Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    /// <summary>
    /// Predicts with <paramref name="run"/>; asserts the refusal and returns its message. Files the manifest names are
    /// checked when the run is opened, before anything is written; what lies inside a position's weights is checked
    /// when the position is loaded, and the image that needed it gets a CSV row naming <paramref name="failedFile"/>
    /// (docs/cli.md).
    /// </summary>
    private string Refused(string run, string? failedFile = null)
    {
        var output = Path.Combine(_work, $"out-{Path.GetFileName(run)}");
        var watch = Stopwatch.StartNew();
        var (code, _, error) = CliProcess.Run(
            _work,
            "predict",
            "--root",
            run,
            "--input",
            Path.Combine(Fixture, "image.png"),
            "--output",
            output
        );
        Assert.True(code == CliApp.RuntimeError, $"exit {code} for {Path.GetFileName(run)}: {error}");
        Assert.True(watch.Elapsed < Prompt, $"{Path.GetFileName(run)} took {watch.Elapsed}");
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        var written = Directory.Exists(output)
            ? Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName).ToArray()
            : Array.Empty<string>();
        if (failedFile is null)
        {
            Assert.True(written.Length == 0, $"{Path.GetFileName(run)} wrote {string.Join(", ", written)}");
        }
        else
        {
            Assert.Equal(new[] { "predictions.csv" }, written);
            var rows = File.ReadAllLines(Path.Combine(output, "predictions.csv"));
            Assert.Equal(2, rows.Length);
            Assert.Matches($",,,,\"?failed: .*{Regex.Escape(failedFile)}", rows[1]);
        }

        return error;
    }

    [Fact]
    public void TheUntouchedFixturePredicts()
    {
        var (code, _, error) = CliProcess.Run(
            _work,
            "predict",
            "--root",
            CopyRun("intact"),
            "--input",
            Path.Combine(Fixture, "image.png"),
            "--output",
            Path.Combine(_work, "out-intact")
        );
        Assert.True(code == CliApp.Ok, error);
    }

    [Fact]
    public void EntriesLeadingOutOfTheFolderAreRefusedWithoutConfirmingTheFileOutside()
    {
        var secret = Path.Combine(_work, "secret.safetensors");
        File.Copy(Path.Combine(Fixture, "run", "positions", "r0_c0.safetensors"), secret);
        string secretHash = Sha256(secret);
        foreach (var (name, entry) in new[] { ("relative", "../secret.safetensors"), ("absolute", secret) })
        {
            var run = CopyRun(name);
            Reseal(run, m =>
            {
                m.Positions[0].State.File = entry;
                m.Positions[0].State.Sha256 = secretHash;
            });
            var error = Refused(run);
            Assert.Contains($"'{entry}'", error, StringComparison.Ordinal);
            Assert.DoesNotContain(secretHash, error, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void LinksAndSpecialFilesInPlaceOfWeightsAreRefusedInsteadOfFollowedOrBlocking()
    {
        Assert.True(OperatingSystem.IsLinux(), "FIFOs and /dev/zero are a Linux test; CI runs Linux.");
        var positions = CopyRun("linked-positions");
        var elsewhere = Path.Combine(_work, "elsewhere");
        Directory.Move(Path.Combine(positions, "positions"), elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(positions, "positions"), elsewhere);
        Assert.Contains("symbolic link", Refused(positions), StringComparison.Ordinal);

        var device = CopyRun("device");
        var backbone = Path.Combine(device, "backbone.safetensors");
        File.Delete(backbone);
        File.CreateSymbolicLink(backbone, "/dev/zero");
        Assert.Contains("backbone.safetensors", Refused(device), StringComparison.Ordinal);

        var fifo = CopyRun("fifo");
        RunFixtureCopies.ReplaceWithFifo(Path.Combine(fifo, "backbone.safetensors"));

        Assert.Contains("not a regular file", Refused(fifo), StringComparison.Ordinal);
    }

    [Fact]
    public void NaNWeightsAndAKeyGivenTwiceAreRefusedEvenWhenResealed()
    {
        var nan = CopyRun("nan");
        RunFixtureCopies.DamageWithNaN(nan, 0, 1);
        var error = Refused(nan, failedFile: "r0_c1.safetensors");
        Assert.Contains("NaN or infinite", error, StringComparison.Ordinal);
        Assert.Contains("r0_c1.safetensors", error, StringComparison.Ordinal);

        var twice = CopyRun("twice");
        var manifest = Path.Combine(twice, "manifest.json");
        var text = File.ReadAllText(manifest);
        int settings = text.IndexOf("\"Settings\": {", StringComparison.Ordinal);
        Assert.True(settings > 0, "the fixture's manifest has no settings object");
        File.WriteAllText(manifest, ManifestSeal.Reseal(text.Insert(text.IndexOf('{', settings) + 1, "\"Seed\": 9,")));
        Assert.Contains("'$.Settings.Seed' twice", Refused(twice), StringComparison.Ordinal);
    }

    /// <summary>A config of the fixture's settings over three generated test images.</summary>
    private string EvalConfig()
    {
        TestRunFiles.WriteFabric(_work, 64, trainCount: 2, testGoodCount: 2, DefectKind.Spot);
        return TestRunFiles.WritePadimConfig(
            Path.Combine(_work, "eval.yaml"),
            64,
            tile: 32,
            stride: 32,
            seed: 5,
            dataRoot: Path.Combine(_work, "data")
        );
    }

    private (int Code, string Error) Eval(string config, string run)
    {
        var (code, _, error) = CliProcess.Run(_work, "eval", "--config", config, "--root", run);
        return (code, error);
    }

    [Fact]
    public void EvalRefusesARunWhoseEvaluationFolderOrEntriesLeadOutAndWritesNothingThere()
    {
        var config = EvalConfig();
        var intact = CopyRun("eval-intact");
        var (code, error) = Eval(config, intact);
        Assert.True(code == CliApp.Ok, error);
        Assert.True(File.Exists(Path.Combine(intact, "evaluation", "metrics.json")));

        // An evaluation folder that is a link to someone else's folder: eval would overwrite their metrics.
        var theirs = Path.Combine(_work, "theirs");
        Directory.CreateDirectory(theirs);
        File.WriteAllText(Path.Combine(theirs, "metrics.json"), "their metrics");
        var linked = CopyRun("eval-linked");
        Directory.CreateSymbolicLink(Path.Combine(linked, "evaluation"), theirs);
        var watch = Stopwatch.StartNew();
        (code, error) = Eval(config, linked);
        Assert.True(code == CliApp.RuntimeError, $"exit {code}: {error}");
        Assert.True(watch.Elapsed < Prompt, $"took {watch.Elapsed}");
        Assert.Contains("evaluation", error, StringComparison.Ordinal);
        Assert.Contains("symbolic link", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Equal(new[] { "metrics.json" }, Directory.GetFiles(theirs).Select(Path.GetFileName));
        Assert.Equal("their metrics", File.ReadAllText(Path.Combine(theirs, "metrics.json")));

        // Weights named by a path out of the folder: refused before any image is scored or anything written.
        var outside = CopyRun("eval-outside");
        var secret = Path.Combine(_work, "secret.safetensors");
        File.Copy(Path.Combine(Fixture, "run", "positions", "r0_c0.safetensors"), secret);
        Reseal(outside, m =>
        {
            m.Positions[0].State.File = "../secret.safetensors";
            m.Positions[0].State.Sha256 = Sha256(secret);
        });
        (code, error) = Eval(config, outside);
        Assert.True(code == CliApp.RuntimeError, $"exit {code}: {error}");
        Assert.Contains("'../secret.safetensors'", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Sha256(secret), error, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(outside, "evaluation")), "eval wrote into the refused run");
    }
}
