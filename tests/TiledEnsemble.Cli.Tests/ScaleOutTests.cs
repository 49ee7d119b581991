using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TiledEnsemble.Cli.Commands;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Persistence;
using TiledEnsemble.Tiling;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// A cluster on one machine: shard workers of the real command line fill one run folder at the same time, one is killed
/// and rerun, a duplicate is refused, then the final step joins them; the result equals a one-process run byte for
/// byte.
/// </summary>
[Collection(nameof(KillAndResumeTests))]
public sealed class ScaleOutTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("scale-out-").FullName;

    public ScaleOutTests()
    {
        TestRunFiles.WriteFabric(_root, 96, trainCount: 10, testGoodCount: 2, DefectKind.Spot);
        TestRunFiles.WritePadimConfig(Config, 96, tile: 32, stride: 16, batch: 5);
    }

    private string Config => Path.Combine(_root, "config.yaml");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ShardWorkersKilledAndRerunThenFinalizedEqualAOneProcessRunByteForByte()
    {
        var shared = Path.Combine(_root, "shared");
        using var first = CliProcess.Start(
            _root,
            null,
            "train",
            "--config",
            Config,
            "--run-dir",
            shared,
            "--shard",
            "0/3",
            "--threads",
            "1",
            "--no-test"
        );
        using (
            var second = CliProcess.Start(
                _root,
                new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" },
                "train",
                "--config",
                Config,
                "--run-dir",
                shared,
                "--shard",
                "3",
                "--threads",
                "1",
                "--no-test"
            )
        )
        {
            // Killed once it has saved a position of its own.
            Assert.True(
                second.WaitUntil(
                    () => Entries(shared).Any(e => ((e.Row * 5) + e.Column) % 3 == 1),
                    TimeSpan.FromMinutes(2)
                ),
                "shard 1 saved no position"
            );
            second.Signal("KILL");
            second.Wait(TimeSpan.FromMinutes(1));
        }

        // Finalizing before every shard is done lists what is missing.
        var early = CliProcess.Run(_root, "train", "--config", Config, "--run-dir", shared, "--finalize", "--no-test");
        Assert.Equal(CliApp.RuntimeError, early.Code);
        Assert.True(early.Error.Contains("lacks") || early.Error.Contains("shard worker"), early.Error);

        // The killed shard is rerun (its claim is taken over: its process has ended), the third runs from SLURM's
        // index.
        var rerun = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config,
            "--run-dir",
            shared,
            "--shard",
            "1/3",
            "--threads",
            "1",
            "--no-test"
        );
        Assert.True(rerun.Code == CliApp.Ok, rerun.Error);
        Assert.Contains("already done", rerun.Output);
        using (
            var third = CliProcess.Start(
                _root,
                new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2" },
                "train",
                "--config",
                Config,
                "--run-dir",
                shared,
                "--shard",
                "3",
                "--threads",
                "1",
                "--no-test"
            )
        )
        {
            var (code, _, error) = third.Wait(TimeSpan.FromMinutes(5));
            Assert.True(code == CliApp.Ok, error);
        }

        var (firstCode, _, firstError) = first.Wait(TimeSpan.FromMinutes(5));
        Assert.True(firstCode == CliApp.Ok, firstError);
        Assert.False(RunStore.ReadManifest(shared).Complete);
        var finalized = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config,
            "--run-dir",
            shared,
            "--finalize",
            "--no-test"
        );
        Assert.True(finalized.Code == CliApp.Ok, finalized.Error);
        Assert.Empty(Directory.GetFiles(Path.Combine(shared, "claims")));

        var single = Path.Combine(_root, "single");
        var straight = CliProcess.Run(_root, "train", "--config", Config, "--run-dir", single, "--no-test");
        Assert.True(straight.Code == CliApp.Ok, straight.Error);
        var files = Directory
            .GetFiles(single, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(single, f))
            .Where(f => !f.StartsWith(".lock", StringComparison.Ordinal))
            .OrderBy(f => f)
            .ToList();
        Assert.Contains("manifest.json", files);
        Assert.Equal(
            25,
            files.Count(f =>
                f.EndsWith(".safetensors", StringComparison.Ordinal)
                && f.StartsWith("positions", StringComparison.Ordinal)
            )
        );
        foreach (var file in files)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(single, file))
                    .AsSpan()
                    .SequenceEqual(File.ReadAllBytes(Path.Combine(shared, file))),
                $"{file} differs"
            );
        }
    }

    [Fact]
    public void ALiveClaimRefusesASecondWorkerAndADeadOnesClaimIsTakenOver()
    {
        var shared = Path.Combine(_root, "claimed");

        // This test process holds shard 1 of 2 as a live worker would.
        using (ShardClaim.Acquire(shared, 1, 2))
        {
            var duplicate = CliProcess.Run(
                _root,
                "train",
                "--config",
                Config,
                "--run-dir",
                shared,
                "--shard",
                "1/2",
                "--no-test"
            );
            Assert.Equal(CliApp.RuntimeError, duplicate.Code);
            Assert.Contains(
                $"Shard 1 of 2 of '{shared}' is being trained by process {Environment.ProcessId} on host "
                    + $"{Environment.MachineName}",
                duplicate.Error
            );
            Assert.False(Directory.Exists(Path.Combine(shared, "positions")));

            var finalize = CliProcess.Run(
                _root,
                "train",
                "--config",
                Config,
                "--run-dir",
                shared,
                "--finalize",
                "--no-test"
            );
            Assert.Equal(CliApp.RuntimeError, finalize.Code);
            Assert.Contains("shard worker", finalize.Error);
        }

        // A claim left by a process of this host that has ended (a killed worker) is taken over at once.
        using (var ended = System.Diagnostics.Process.Start("true")!)
        {
            ended.WaitForExit();
            File.WriteAllText(
                Path.Combine(shared, "claims", "shard-1-of-2.json"),
                $$"""{"Index":1,"Count":2,"Host":"{{Environment.MachineName}}","ProcessId":{{ended.Id}},"""
                    + "\"Since\":\"2026-01-01T00:00:00+00:00\"}"
            );
        }

        var rerun = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config,
            "--run-dir",
            shared,
            "--shard",
            "1/2",
            "--no-test"
        );
        Assert.True(rerun.Code == CliApp.Ok, rerun.Error);
        Assert.Contains("Shard 1 of 2: trained 12 of its 12 position(s)", rerun.Output);
    }

    [Fact]
    public void ShardsPartitionTheGridAndTheIndexComesFromTheClusterWhenOnlyNIsGiven()
    {
        var grid = TileGrid.Create(new Size2D(96, 96), new Size2D(32, 32), new Size2D(16, 16));
        var all = Enumerable
            .Range(0, 4)
            .SelectMany(k => EnsembleTrainer.ShardPositions(grid, k, 4))
            .Select(p => (p.Row, p.Column))
            .ToList();
        Assert.Equal(grid.Count, all.Count);
        Assert.Equal(grid.Count, all.Distinct().Count());
        Assert.Equal(
            new[] { (0, 0), (0, 4), (1, 3), (2, 2), (3, 1), (4, 0), (4, 4) },
            EnsembleTrainer.ShardPositions(grid, 0, 4).Select(p => (p.Row, p.Column))
        );
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleTrainer.ShardPositions(grid, 4, 4));

        Assert.Equal((2, 5), ShardOption.Parse("2/5", _ => null));
        Assert.Equal((3, 4), ShardOption.Parse("4", v => v == "JOB_COMPLETION_INDEX" ? "3" : null));
        Assert.Equal((1, 4), ShardOption.Parse("4", v => v == "SLURM_ARRAY_TASK_ID" ? "1" : null));
        Assert.Contains(
            "JOB_COMPLETION_INDEX",
            Assert.Throws<ConfigException>(() => ShardOption.Parse("4", _ => null)).Message
        );
        Assert.Throws<ConfigException>(() => ShardOption.Parse("4/4", _ => null));
        Assert.Throws<ConfigException>(() => ShardOption.Parse("x", _ => null));
    }

    private static List<PositionEntry> Entries(string run)
    {
        try
        {
            return PositionEntries.LoadAll(run);
        }
        catch (Exception exception) when (exception is IOException or RunIntegrityException)
        {
            return new List<PositionEntry>();
        }
    }
}
