using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TiledEnsemble.Hosting;

/// <summary>
/// Runs a long piece of libtorch work (training, evaluation) and everything it schedules on threads of its own, which
/// end when the work ends.
/// </summary>
/// <remarks>
/// libtorch's CPU operators parallelize with OpenMP, and GNU OpenMP keeps a team of worker threads for every thread
/// that ever entered a parallel region, until that thread exits. Thread-pool threads live on for tens of seconds after
/// training; while their teams exist the process has more OpenMP threads than cores, and GNU OpenMP then lets its
/// idle workers sleep almost at once instead of spinning, so every operator of the next predictions paid a wake-up:
/// the bare backbone ran 30–40 % slower in a process that had just trained than in a fresh one, and was fast again
/// once the idle pool threads had retired (docs/benchmarks.md). Work run here leaves no such teams behind.
/// </remarks>
internal static class DedicatedThreads
{
    /// <summary>
    /// Runs <paramref name="work"/> on <paramref name="threads"/> new threads named <paramref name="name"/>; tasks it
    /// starts with the current scheduler (<c>Task.Factory.StartNew(…, TaskScheduler.Current)</c>) and parallel loops
    /// given it (<c>ParallelOptions.TaskScheduler = TaskScheduler.Current</c>: without it a loop runs on the thread
    /// pool) run on them too. The returned task completes after every thread has ended, from outside them.
    /// </summary>
    public static Task<T> RunAsync<T>(string name, int threads, Func<T> work, CancellationToken cancellationToken)
    {
        var scheduler = new DedicatedThreadScheduler(name, threads);
        var task = Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, scheduler);

        // The continuation runs on the thread pool, never on the threads it waits for.
        return task.ContinueWith(
                finished =>
                {
                    scheduler.Dispose();
                    return finished;
                },
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default
            )
            .Unwrap();
    }
}

/// <summary>A task scheduler with a fixed set of threads that end when it is disposed (after running what was
/// queued).</summary>
internal sealed class DedicatedThreadScheduler : TaskScheduler, IDisposable
{
    [ThreadStatic]
    private static DedicatedThreadScheduler? _current;

    private readonly BlockingCollection<Task> _queue = new();
    private readonly Thread[] _threads;
    private int _disposed;

    public DedicatedThreadScheduler(string name, int threads)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1.");
        }

        _threads = Enumerable
            .Range(1, threads)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"{name} {i}" })
            .ToArray();
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>The threads (for tests: whether they have ended).</summary>
    public IReadOnlyList<Thread> Threads => _threads;

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Runs what is still queued, then ends every thread and waits for them (except the calling
    /// one).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.CompleteAdding();
        foreach (var thread in _threads.Where(t => t != Thread.CurrentThread))
        {
            thread.Join();
        }
    }

    /// <inheritdoc />
    protected override void QueueTask(Task task) => _queue.Add(task);

    /// <inheritdoc />
    /// <remarks>
    /// A thread of this scheduler that waits for a task not yet started runs it itself: waiting for the loader's
    /// prefetched batch can never deadlock, however few threads there are.
    /// </remarks>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        _current == this && TryExecuteTask(task);

    /// <inheritdoc />
    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Work()
    {
        _current = this;
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
