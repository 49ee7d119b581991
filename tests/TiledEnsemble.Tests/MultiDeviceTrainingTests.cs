using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Options;
using TiledEnsemble.Models;
using TiledEnsemble.Persistence;
using Xunit;

namespace TiledEnsemble.Tests;

/// <summary>Several devices in one process, proven with CPU "devices": the code path CUDA devices take.</summary>
public sealed class MultiDeviceTrainingTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("devices-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    // 128² images in 3×3 tiles of 64 with stride 32: nine positions to share out.
    private static TiledEnsembleBuilder Small() =>
        TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(64, 32)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 10)
            .WithPretrainedBackbone(false)
            .WithBatchSizes(8, 8);

    [Fact]
    public async Task TwoDevicesTrainAtOnceEachWithItsOwnBackboneAndTheRunEqualsAOneDeviceRun()
    {
        using var data = new GeneratedData();
        var backbones = new ConcurrentDictionary<object, ConcurrentBag<(int Row, int Column)>>(
            ReferenceEqualityComparer.Instance
        );
        bool overlapped = true;
        IAnomalyModel Recording(ModelContext context, IAnomalyModel model)
        {
            backbones
                .GetOrAdd(context.Backbone, _ => new ConcurrentBag<(int, int)>())
                .Add((context.Position.Row, context.Position.Column));

            // The first model of each worker waits until the other worker has made one: this returns at once only when
            // both workers really train at the same time.
            if (!SpinWait.SpinUntil(() => backbones.Count >= 2, TimeSpan.FromSeconds(60)))
            {
                overlapped = false;
            }

            return model;
        }

        var several = Path.Combine(_runs, "two-devices");
        using (var ensemble = Small().WithDevices("cpu", "cpu").WithModelDecorator(Recording).Build())
        {
            Assert.Equal(new[] { "cpu", "cpu" }, ensemble.Settings.TrainingDevices);
            Assert.Equal("cpu", ensemble.Settings.Device);
            var reports = new ConcurrentBag<string>();
            await ensemble.FitAsync(
                data.Module(),
                several,
                new SyncProgress<EnsembleProgress>(r => reports.Add(r.Message))
            );
            Assert.Equal(9, reports.Count(m => m.EndsWith("trained on cpu", StringComparison.Ordinal)));
        }

        Assert.True(overlapped, "the second device's worker never trained while the first did");
        Assert.Equal(2, backbones.Count);
        var trainedBy = backbones.Values.Select(b => b.Distinct().Count()).ToList();
        Assert.All(trainedBy, count => Assert.True(count >= 1));
        Assert.True(trainedBy.Sum() >= 9, $"positions per backbone: {string.Join(", ", trainedBy)}");

        var single = Path.Combine(_runs, "one-device");
        using (var ensemble = Small().WithDevice("cpu").Build())
        {
            Assert.Empty(ensemble.Settings.TrainingDevices);
            await ensemble.FitAsync(data.Module(), single);
        }

        // Byte-identical: the device list is not part of the run.
        var files = Directory
            .GetFiles(single, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(single, f))
            .Where(f => !f.StartsWith(".lock", StringComparison.Ordinal))
            .OrderBy(f => f)
            .ToList();
        Assert.Equal(
            9,
            files.Count(f =>
                f.StartsWith("positions", StringComparison.Ordinal)
                && f.EndsWith(".safetensors", StringComparison.Ordinal)
            )
        );
        Assert.Contains(RunStore.ManifestFile, files);
        foreach (var file in files)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(single, file))
                    .AsSpan()
                    .SequenceEqual(File.ReadAllBytes(Path.Combine(several, file))),
                $"{file} differs"
            );
        }
    }

    [Fact]
    public void BadDeviceListsAreRefusedNamingTheList()
    {
        string Failure(Func<TiledEnsembleBuilder, TiledEnsembleBuilder> configure) =>
            Assert.Throws<OptionsValidationException>(() => configure(Small()).Build()).Message;

        Assert.Contains(
            "MaxDegreeOfParallelism must then be 1, got 2",
            Failure(b => b.WithDevices("cpu", "cpu").WithParallelism(2))
        );
        Assert.Contains(
            "Devices: Device must be \"cpu\", \"cuda\" or \"cuda:N\"; got 'tpu'",
            Failure(b => b.WithDevices("cpu", "tpu"))
        );
        Assert.Contains(
            "asks for CUDA, but CUDA is not available here",
            Failure(b => b.WithDevices("cuda:0", "cuda:1"))
        );

        // WithDevice after WithDevices: one device again.
        using var one = Small().WithDevices("cpu", "cpu").WithDevice("cpu").Build();
        Assert.Empty(one.Settings.TrainingDevices);
    }
}
