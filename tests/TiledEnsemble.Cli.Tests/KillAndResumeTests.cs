using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Cli;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Persistence;
using TiledEnsemble.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Tests;

/// <summary>A real training process is killed part-way; resuming must give exactly what an uninterrupted run
/// gives.</summary>
[CollectionDefinition(nameof(KillAndResumeTests), DisableParallelization = true)]
public sealed class KillAndResumeCollection { }

[Collection(nameof(KillAndResumeTests))]
public sealed class KillAndResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kill-").FullName;
    private readonly ITestOutputHelper _output;

    public KillAndResumeTests(ITestOutputHelper output)
    {
        _output = output;
        TestRunFiles.WriteFabric(_root, 96, trainCount: 10, testGoodCount: 2, DefectKind.Spot);
        TestRunFiles.WritePadimConfig(Path.Combine(_root, "config.yaml"), 96, tile: 32, stride: 16, batch: 5);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task AKilledTrainingResumesToTheSameResultWithNoCorruptFile()
    {
        var killed = Path.Combine(_root, "killed");
        var cli = typeof(CliApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (
            var argument in new[]
            {
                cli,
                "train",
                "--config",
                Path.Combine(_root, "config.yaml"),
                "--run-dir",
                killed,
                "--no-test",
            }
        )
        {
            start.ArgumentList.Add(argument);
        }

        using (var child = Process.Start(start)!)
        {
            var positions = Path.Combine(killed, "positions");
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (
                !child.HasExited
                && DateTime.UtcNow < deadline
                && (!Directory.Exists(positions) || Directory.GetFiles(positions, "*.safetensors").Length < 3)
            )
            {
                Thread.Sleep(10);
            }

            Assert.False(
                child.HasExited,
                "the training finished before it could be killed; the test needs a slower configuration"
            );
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }

        var manifest = RunStore.ReadManifest(killed);
        var entries = PositionEntries.LoadAll(killed);
        _output.WriteLine($"killed after {entries.Count} of 25 positions");
        Assert.False(manifest.Complete);
        // The kill can land between a position's state and its entry file: such a state is simply trained again.
        Assert.InRange(entries.Count, 2, 24);
        foreach (var entry in entries)
        {
            RunStore.Verify(killed, entry.State); // every recorded file is whole
        }

        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Assert.Equal(
            0,
            await CliApp.RunAsync(
                new[] { "train", "--config", Path.Combine(_root, "config.yaml"), "--run-dir", killed, "--no-test" },
                stdout,
                stderr
            )
        );
        Assert.Contains("resumed", stdout.ToString());
        var straight = Path.Combine(_root, "straight");
        Assert.Equal(
            0,
            await CliApp.RunAsync(
                new[] { "train", "--config", Path.Combine(_root, "config.yaml"), "--run-dir", straight, "--no-test" },
                new StringWriter(),
                new StringWriter()
            )
        );

        using var a = Ensemble.Load(killed);
        using var b = Ensemble.Load(straight);
        Assert.Equal(b.ImageStatistics, a.ImageStatistics);
        var image = Path.Combine(_root, "data", "fabric", "test", "spot", "000.png");
        using var pa = a.Predict(image);
        using var pb = b.Predict(image);
        Assert.True(TestTensors.Same(pa.AnomalyMap, pb.AnomalyMap));
        foreach (var position in Directory.GetFiles(Path.Combine(straight, "positions")))
        {
            Assert.Equal(
                File.ReadAllBytes(position),
                File.ReadAllBytes(Path.Combine(killed, "positions", Path.GetFileName(position)))
            );
        }
    }
}
