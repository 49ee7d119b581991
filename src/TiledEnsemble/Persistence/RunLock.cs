using System;
using System.IO;
using System.Text.Json;

namespace TiledEnsemble.Persistence;

/// <summary>
/// The exclusive right to write a run folder, held for the whole of a training or resumption: an OS lock on the file
/// <c>.lock</c> in the folder (<c>flock</c> on Linux and macOS, a sharing lock on Windows), which the operating system
/// releases when the process ends however it ends, so a killed run never stays locked. Who holds it (process id, host,
/// start time) is written to <c>.lock.holder</c> for the message a second writer gets.
/// </summary>
/// <remarks>
/// The lock file itself is never deleted: a process that opened it just before a deletion would lock a file nobody else
/// sees. The lock is for one machine (or a file system that honours <c>flock</c>); several machines filling one folder
/// need the scale-out protocol (docs/ensemble.md).
/// </remarks>
internal sealed class RunLock : IDisposable
{
    public const string LockFile = ".lock";
    public const string HolderFile = ".lock.holder";

    private readonly FileStream _stream;
    private readonly string _holder;

    private RunLock(FileStream stream, string holder)
    {
        _stream = stream;
        _holder = holder;
    }

    /// <summary>Takes the lock of <paramref name="runDirectory"/> (creating the folder), or fails at once.</summary>
    /// <exception cref="RunLockedException">Another process (or another ensemble in this one) holds it.</exception>
    public static RunLock Acquire(string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        var path = Path.Combine(runDirectory, LockFile);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception) when (exception is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new RunLockedException(runDirectory, ReadHolder(runDirectory), exception);
        }

        var holder = Path.Combine(runDirectory, HolderFile);
        AtomicFile.WriteAllText(
            holder,
            JsonSerializer.Serialize(new Holder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow))
        );
        return new RunLock(stream, holder);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_holder);
        }
        catch (IOException)
        {
            // Best effort: a stale holder record is overwritten by the next writer and means nothing without the lock.
        }

        _stream.Dispose();
    }

    private static Holder? ReadHolder(string runDirectory)
    {
        try
        {
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(Path.Combine(runDirectory, HolderFile)));
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Who holds a lock.</summary>
    internal sealed record Holder(int ProcessId, string Host, DateTimeOffset Since);
}

/// <summary>A run folder is being written by another training (in this process or another); nothing was
/// changed.</summary>
public sealed class RunLockedException : InvalidOperationException
{
    internal RunLockedException(string runDirectory, RunLock.Holder? holder, Exception inner)
        : base(
            holder is null
                ? $"The run folder '{runDirectory}' is being written by another training (its lock is held); wait "
                    + $"for it to finish or choose another run folder."
                : $"The run folder '{runDirectory}' is being written by process {holder.ProcessId} on host "
                    + $"{holder.Host} (since {holder.Since:u}); wait for it to finish or choose another run folder.",
            inner
        )
    {
        RunDirectory = runDirectory;
        HolderProcessId = holder?.ProcessId;
        HolderHost = holder?.Host;
    }

    /// <summary>The run folder.</summary>
    public string RunDirectory { get; }

    /// <summary>The process holding it, when known.</summary>
    public int? HolderProcessId { get; }

    /// <summary>The host of that process, when known.</summary>
    public string? HolderHost { get; }
}
