using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Persistence;
using TiledEnsemble.Tiling;
using TorchSharp;

namespace TiledEnsemble.Training;

/// <summary>Creating a run folder, or opening one to resume, and what it already holds.</summary>
internal static class RunSetup
{
    /// <summary>
    /// The run's manifest and backbone: created when the folder holds no run (by several workers at once when
    /// <paramref name="shared"/>: the first to place each file wins, the others check that theirs is equal), or opened
    /// and checked against these settings, stages and data.
    /// </summary>
    public static RunManifest Open(TrainingRun run, FitOptions options, bool shared, out ResNet backbone)
    {
        var runDirectory = run.RunDirectory;
        Directory.CreateDirectory(runDirectory);

        // A training killed mid-write left hidden temporaries; a new one would otherwise find the folder not empty.
        AtomicFile.SweepAbandoned(runDirectory, recursive: true);
        var manifestPath = Path.Combine(runDirectory, RunStore.ManifestFile);
        var (fingerprint, files) = DataFingerprint.Of(run.Data);
        if (!File.Exists(manifestPath))
        {
            if (
                !shared
                && Directory
                    .EnumerateFileSystemEntries(runDirectory)
                    .Any(e => Path.GetFileName(e) is not (RunLock.LockFile or RunLock.HolderFile))
            )
            {
                throw new InvalidOperationException(
                    $"'{runDirectory}' is not empty and holds no run manifest; refusing to write a run into it. "
                        + $"Choose an "
                        + "empty or new directory."
                );
            }

            var created = Create(run, fingerprint, files, out backbone);
            if (RunStore.CreateManifest(runDirectory, created))
            {
                return created;
            }

            backbone.Dispose();
        }

        var existing = RunStore.ReadManifest(runDirectory);
        CheckSame(run, existing);
        CheckData(run, existing, fingerprint, files, options, mayWrite: !shared);
        backbone = BackboneStore.Load(runDirectory, existing, run.Device);
        existing.Complete = false;
        return existing;
    }

    /// <summary>Refuses a run made with other settings or other stages than <paramref name="run"/>'s.</summary>
    public static void CheckSame(TrainingRun run, RunManifest existing)
    {
        if (existing.TrainingIdentity != run.Settings.TrainingIdentity())
        {
            throw new InvalidOperationException(
                $"'{run.RunDirectory}' holds a run trained with other settings ({existing.TrainingIdentity}); these "
                    + $"settings are ({run.Settings.TrainingIdentity()}). Choose another directory; the existing run "
                    + $"is left "
                    + "untouched."
            );
        }

        run.Definition.CheckAgainst(
            run.RunDirectory,
            RunStore.Stages(existing) ?? EnsembleDefinition.DefaultStages(existing.Settings!),
            given: null
        );
    }

    /// <summary>Refuses to resume on other data than the run started with, unless told to (then records the new data,
    /// where allowed to write).</summary>
    public static void CheckData(
        TrainingRun run,
        RunManifest existing,
        DataFingerprint fingerprint,
        List<DataFileRecord> files,
        FitOptions options,
        bool mayWrite
    )
    {
        var runDirectory = run.RunDirectory;
        var recorded = DataFingerprint.Load(runDirectory);
        string? differences = recorded is null ? null : DataFingerprint.Differences(recorded, files);
        if (recorded is null)
        {
            run.Logger.LogWarning(
                "'{Run}' recorded no data fingerprint (written by an older version); the data cannot be compared.",
                runDirectory
            );
        }
        else if (differences is not null && !options.AllowChangedData)
        {
            throw new DataChangedException(runDirectory, differences);
        }
        else if (differences is not null)
        {
            run.Logger.LogWarning(
                "Resuming '{Run}' on changed data, as allowed: {Differences}",
                runDirectory,
                differences
            );
        }

        if (mayWrite && (recorded is null || differences is not null))
        {
            DataFingerprint.Save(runDirectory, files);
            existing.Data = fingerprint;
            RunStore.WriteManifest(runDirectory, existing);
        }
    }

    /// <summary>Refuses while shard workers hold claims on the run.</summary>
    public static void RefuseLiveShards(string runDirectory, string action)
    {
        var live = ShardClaim.Live(runDirectory);
        if (live.Length > 0)
        {
            var (_, holder) = live[0];
            throw new InvalidOperationException(
                $"'{runDirectory}' is being trained by {live.Length} shard worker(s) (shard {holder.Index} of "
                    + $"{holder.Count}: "
                    + $"process {holder.ProcessId} on host {holder.Host}); wait for them before you {action}."
            );
        }
    }

    /// <summary>
    /// Those of <paramref name="positions"/> that are finished and whose states verify: their entry files, and the
    /// entries of older manifests. Only the positions asked for are read (a shard does not hash the others' states).
    /// </summary>
    public static Dictionary<(int, int), PositionEntry> Finished(
        TrainingRun run,
        RunManifest manifest,
        IReadOnlyCollection<TilePosition> positions
    )
    {
        var wanted = positions.Select(p => (p.Row, p.Column)).ToHashSet();
        var finished = new Dictionary<(int, int), PositionEntry>();
        var entries = manifest
            .Positions.Concat(PositionEntries.LoadAll(run.RunDirectory))
            .Where(e => wanted.Contains((e.Row, e.Column)));
        foreach (var entry in entries)
        {
            try
            {
                RunStore.Verify(run.RunDirectory, entry.State);
                finished[(entry.Row, entry.Column)] = entry;
            }
            catch (RunIntegrityException exception)
            {
                run.Logger.LogWarning(
                    "Position ({Row}, {Column}) will be trained again: {Reason}",
                    entry.Row,
                    entry.Column,
                    exception.Message
                );
                finished.Remove((entry.Row, entry.Column));
            }
        }

        return finished;
    }

    /// <summary>A new run's backbone file, data record and manifest (not yet written); files are placed
    /// write-once.</summary>
    private static RunManifest Create(
        TrainingRun run,
        DataFingerprint fingerprint,
        List<DataFileRecord> files,
        out ResNet backbone
    )
    {
        var settings = run.Settings;
        (backbone, var source, var provenance) = BackboneStore.Create(settings, run.Logger);
        backbone.to(run.Device);
        var metadata = new Dictionary<string, string>(provenance ?? new Dictionary<string, string>())
        {
            ["backbone"] = settings.Backbone,
            ["backbone_source"] = source,
        };
        var entry = BackboneStore.Save(run.RunDirectory, backbone, metadata);
        DataFingerprint.Save(run.RunDirectory, files);
        return new RunManifest
        {
            LibraryVersion = RunStore.LibraryVersion,
            Settings = settings,
            TrainingIdentity = settings.TrainingIdentity(),
            Stages = run.Definition.Stages.ToDictionary(s => s.Key, s => StageRecord.Of(s.Value)),
            Rows = run.Grid.Rows,
            Columns = run.Grid.Columns,
            Backbone = entry,
            BackboneSource = source,
            BackboneProvenance = provenance,
            Data = fingerprint,
        };
    }
}
