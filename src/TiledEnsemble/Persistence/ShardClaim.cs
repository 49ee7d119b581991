using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using System.Threading;

namespace TiledEnsemble.Persistence;

/// <summary>
/// A worker's claim on one shard of a run folder shared by several machines: <c>claims/shard-K-of-N.json</c>, created
/// exclusively, naming the host, process and start, and touched every <see cref="Heartbeat"/> while the worker lives.
/// A claim whose heartbeat is older than <see cref="StaleAfter"/>, or whose process on this host has ended, is taken
/// over (a rerun of a killed shard); a live one makes a second worker for the same shard fail at once. No file lock is
/// involved, so the protocol holds on network file systems; correctness does not depend on the claim (positions are
/// separate, deterministic files), only wasted work and confusion do.
/// </summary>
internal sealed class ShardClaim : IDisposable
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(90);

    private readonly string _path;
    private readonly Timer _timer;

    private ShardClaim(string path)
    {
        _path = path;
        _timer = new Timer(_ => Touch(), null, Heartbeat, Heartbeat);
    }

    public static string Folder(string runDirectory) => Path.Combine(runDirectory, "claims");

    /// <exception cref="ShardClaimedException">A live worker holds the shard.</exception>
    public static ShardClaim Acquire(string runDirectory, int index, int count)
    {
        Directory.CreateDirectory(Folder(runDirectory));
        var path = Path.Combine(Folder(runDirectory), $"shard-{index}-of-{count}.json");
        var record = JsonSerializer.Serialize(
            new Holder(index, count, Environment.MachineName, Environment.ProcessId, DateTimeOffset.UtcNow)
        );
        try
        {
            using var created = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            created.Write(System.Text.Encoding.UTF8.GetBytes(record));
        }
        catch (IOException) when (File.Exists(path))
        {
            var holder = Read(path);
            var age = DateTime.UtcNow - File.GetLastWriteTimeUtc(path);
            bool ended = holder is not null && holder.Host == Environment.MachineName && !Alive(holder.ProcessId);
            if (holder is not null && !ended && age < StaleAfter)
            {
                throw new ShardClaimedException(runDirectory, index, count, holder, age);
            }

            AtomicFile.WriteAllText(path, record);
        }

        return new ShardClaim(path);
    }

    /// <summary>The live claims of a run folder (heartbeat within <see cref="StaleAfter"/>, process alive when on this
    /// host).</summary>
    public static (string File, Holder Holder)[] Live(string runDirectory)
    {
        if (!Directory.Exists(Folder(runDirectory)))
        {
            return Array.Empty<(string, Holder)>();
        }

        var live = new System.Collections.Generic.List<(string, Holder)>();
        foreach (var file in Directory.EnumerateFiles(Folder(runDirectory), "shard-*.json"))
        {
            if (
                Read(file) is { } holder
                && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) < StaleAfter
                && !(holder.Host == Environment.MachineName && !Alive(holder.ProcessId))
            )
            {
                live.Add((file, holder));
            }
        }

        return live.ToArray();
    }

    public void Dispose()
    {
        _timer.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // A leftover claim goes stale and is taken over.
        }
    }

    private void Touch()
    {
        try
        {
            File.SetLastWriteTimeUtc(_path, DateTime.UtcNow);
        }
        catch (IOException) { }
    }

    private static Holder? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(path));
        }
        catch (Exception exception) when (exception is IOException or JsonException)
        {
            return null;
        }
    }

    private static bool Alive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Who claimed a shard.</summary>
    internal sealed record Holder(int Index, int Count, string Host, int ProcessId, DateTimeOffset Since);
}

/// <summary>Another live worker is training this shard of the run folder; nothing was changed.</summary>
public sealed class ShardClaimedException : InvalidOperationException
{
    internal ShardClaimedException(
        string runDirectory,
        int index,
        int count,
        ShardClaim.Holder holder,
        TimeSpan heartbeatAge
    )
        : base(
            $"Shard {index} of {count} of '{runDirectory}' is being trained by process {holder.ProcessId} on host "
                + $"{holder.Host} (since {holder.Since:u}, last heartbeat {heartbeatAge.TotalSeconds:F0} s ago). Run "
                + $"each shard once; a killed worker's claim is taken over after "
                + $"{ShardClaim.StaleAfter.TotalSeconds:F0} s without heartbeat (at once on the same host)."
        ) { }
}
