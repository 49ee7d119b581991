using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Models;
using TiledEnsemble.Persistence;
using Xunit;

namespace TiledEnsemble.Tests;

public sealed class RunFolderTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("run-folder-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithImageSize(64)
            .WithTiling(64, 64)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8);

    [Fact]
    public async Task AHeldFolderIsRefusedBeforeAnythingIsWrittenAndFreedWithItsHolder()
    {
        using var data = new GeneratedData();
        var run = Path.Combine(_runs, "held");
        using (RunLock.Acquire(run))
        {
            using var ensemble = Small().Build();
            var error = await Assert.ThrowsAsync<RunLockedException>(() => ensemble.FitAsync(data.Module(), run));
            Assert.Equal(Environment.ProcessId, error.HolderProcessId);
            Assert.Equal(Environment.MachineName, error.HolderHost);
            Assert.Contains($"process {Environment.ProcessId} on host", error.Message);
            Assert.False(File.Exists(Path.Combine(run, RunStore.ManifestFile)));
            Assert.Throws<RunLockedException>(() => RunLock.Acquire(run));
        }

        // Released (as the OS releases it when a process dies): training proceeds into the folder holding the lock
        // file.
        using var again = Small().Build();
        await again.FitAsync(data.Module(), run);
        Assert.True(RunStore.ReadManifest(run).Complete);
        Assert.False(File.Exists(Path.Combine(run, RunLock.HolderFile)));
    }

    [Fact]
    public async Task TemporariesOfATrainingKilledMidWriteAreSweptAndTheFolderTrainsAgain()
    {
        // What kill -9 during the first manifest write leaves: a folder holding only a hidden temporary.
        using var data = new GeneratedData();
        var run = Directory.CreateDirectory(Path.Combine(_runs, "killed")).FullName;
        var leftover = Path.Combine(run, $".{RunStore.ManifestFile}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(leftover, "{ \"FormatVer");
        using var ensemble = Small().Build();
        await ensemble.FitAsync(data.Module(), run);
        Assert.True(RunStore.ReadManifest(run).Complete);
        Assert.False(File.Exists(leftover));
    }

    [Fact]
    public async Task ResumingOnChangedDataIsRefusedNamingTheChangeUnlessAllowed()
    {
        using var data = new GeneratedData();
        var run = Path.Combine(_runs, "data");
        using (var first = Small().Build())
        {
            await first.FitAsync(data.Module(), run);
        }

        var manifest = RunStore.ReadManifest(run);
        Assert.Equal(20, manifest.Data!.TrainCount);
        Assert.Equal(64, manifest.Data.Sha256.Length);

        // Same data, copied elsewhere with new modification times: the same fingerprint.
        var good = Path.Combine(data.Root, "fabric", "train", "good");
        File.SetLastWriteTimeUtc(Path.Combine(good, "000.png"), DateTime.UtcNow.AddDays(1));
        using (var same = Small().Build())
        {
            await same.FitAsync(data.Module(), run);
        }

        // One image edited in place, one removed.
        var bytes = File.ReadAllBytes(Path.Combine(good, "001.png"));
        File.Delete(Path.Combine(good, "002.png"));
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            ImageIO.WriteImage(Path.Combine(good, "001.png"), TorchSharp.torch.rand(3, 128, 128));
        }

        using var changed = Small().Build();
        var error = await Assert.ThrowsAsync<DataChangedException>(() => changed.FitAsync(data.Module(), run));
        Assert.Contains("1 removed (first: train train/good/002.png)", error.Message);
        Assert.Contains("1 changed (first: train train/good/001.png)", error.Message);
        Assert.Equal(manifest.Data.Sha256, RunStore.ReadManifest(run).Data!.Sha256);

        await changed.FitAsync(data.Module(), run, new FitOptions { AllowChangedData = true });
        Assert.Equal(19, RunStore.ReadManifest(run).Data!.TrainCount);
        Assert.NotEqual(bytes, File.ReadAllBytes(Path.Combine(good, "001.png")));
    }

    [Fact]
    public void DifferencesCountRemovedAddedAndChangedFiles()
    {
        var before = new[]
        {
            new DataFileRecord("train", "a.png", "Normal", 10, "h1"),
            new DataFileRecord("train", "b.png", "Normal", 10, "h2"),
            new DataFileRecord("validation", "c.png", "Anomalous", 10, "h3"),
        };
        Assert.Null(DataFingerprint.Differences(before, before.Reverse().ToArray()));
        var after = new[]
        {
            new DataFileRecord("train", "a.png", "Normal", 10, "h1"),
            new DataFileRecord("validation", "c.png", "Normal", 10, "h3"),
            new DataFileRecord("train", "d.png", "Normal", 10, "h4"),
        };
        Assert.Equal(
            "1 removed (first: train b.png); 1 added (first: train d.png); 1 changed (first: validation c.png)",
            DataFingerprint.Differences(before, after)
        );
    }

    [Fact]
    public void AbsurdSizesAreRefusedByTheBuilderWithTheNumbers()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TiledEnsembleBuilder
                .Create()
                .WithImageSize(100_000)
                .WithTiling(64, 32)
                .WithPretrainedBackbone(false)
                .Build()
        );
        Assert.Contains("beyond MaxInputSide 16384", error.Message);
        Assert.Contains("tile positions", error.Message);
        Assert.Contains("MiB", error.Message);
    }
}
