using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class DedicatedThreadsTests
{
    [Fact]
    public async Task WorkAndWhatItStartsRunOnTheDedicatedThreadsWhichEndWithIt()
    {
        var names = new ConcurrentBag<string?>();
        var loopThreads = new ConcurrentDictionary<int, bool>();
        DedicatedThreadScheduler? scheduler = null;
        bool bothThreadsJoined = true;
        int result = await DedicatedThreads.RunAsync(
            "test worker",
            2,
            () =>
            {
                scheduler = (DedicatedThreadScheduler)TaskScheduler.Current;
                names.Add(Thread.CurrentThread.Name);

                // As the loader and the trainer start their work: a task on the current scheduler and a parallel loop
                // given it.
                var loaded = Task.Factory.StartNew(
                    () => names.Add(Thread.CurrentThread.Name),
                    CancellationToken.None,
                    TaskCreationOptions.DenyChildAttach,
                    TaskScheduler.Current
                );
                loaded.Wait();
                var options = new ParallelOptions { MaxDegreeOfParallelism = 2, TaskScheduler = TaskScheduler.Current };
                Parallel.For(0, 8, options, _ =>
                {
                    names.Add(Thread.CurrentThread.Name);

                    // Every iteration waits until two threads have entered the loop: it ends only if the loop really
                    // ran on both dedicated threads, whatever the order in which they pick up work.
                    loopThreads.TryAdd(Environment.CurrentManagedThreadId, true);
                    if (!SpinWait.SpinUntil(() => loopThreads.Count >= 2, TimeSpan.FromSeconds(20)))
                    {
                        bothThreadsJoined = false;
                    }
                });
                return 42;
            },
            CancellationToken.None
        );

        Assert.Equal(42, result);
        Assert.True(bothThreadsJoined, "the parallel loop never ran on two threads at once");
        Assert.Equal(2, loopThreads.Count);
        Assert.Equal(10, names.Count);
        Assert.All(names, n => Assert.StartsWith("test worker ", n));
        Assert.NotNull(scheduler);
        Assert.All(scheduler!.Threads, t => Assert.False(t.IsAlive, $"{t.Name} still runs after the work ended"));
    }

    [Fact]
    public async Task TheLoadersWorkersRunOnTheDedicatedThreads()
    {
        using var data = new GeneratedData();
        var module = data.Module(batch: 4);
        var names = new ConcurrentBag<string?>();
        var loader = new SampleLoader(
            new LoaderOptions
            {
                ImageSize = 64,
                NumWorkers = 2,
                PrefetchBatches = 2,
            }
        );
        int batches = await DedicatedThreads.RunAsync(
            "loader test",
            2,
            () =>
            {
                int count = 0;
                foreach (var batch in loader.Batches(module.Train, 4, image =>
                    {
                        names.Add(Thread.CurrentThread.Name);
                        return image.clone();
                    }))
                {
                    batch.Dispose();
                    count++;
                }

                return count;
            },
            CancellationToken.None
        );

        Assert.Equal(5, batches);
        Assert.Equal(module.Train.Count, names.Count); // normal images: their empty masks are made at the tile size
        Assert.All(names, n => Assert.StartsWith("loader test ", n));
    }

    [Fact]
    public async Task OneThreadWaitingForATaskItQueuedRunsItInsteadOfDeadlocking()
    {
        var value = await DedicatedThreads
            .RunAsync(
                "single",
                1,
                () =>
                {
                    var queued = Task.Factory.StartNew(
                        () => 7,
                        CancellationToken.None,
                        TaskCreationOptions.DenyChildAttach,
                        TaskScheduler.Current
                    );
                    return queued.GetAwaiter().GetResult() * 6;
                },
                CancellationToken.None
            )
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(42, value);
    }

    [Fact]
    public async Task ExceptionsAndCancellationReachTheCaller()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            DedicatedThreads.RunAsync<int>(
                "failing",
                2,
                () => throw new InvalidOperationException("broken"),
                CancellationToken.None
            )
        );
        Assert.Equal("broken", error.Message);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DedicatedThreads.RunAsync("cancelled", 2, () => 1, cancelled.Token)
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DedicatedThreads.RunAsync<int>(
                "cancelling",
                2,
                () => throw new OperationCanceledException(),
                CancellationToken.None
            )
        );
        Assert.Throws<ArgumentOutOfRangeException>(() => new DedicatedThreadScheduler("none", 0));
    }
}
