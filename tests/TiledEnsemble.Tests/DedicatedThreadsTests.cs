using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class DedicatedThreadsTests
{
    [Fact]
    public async Task WorkAndWhatItStartsRunOnTheDedicatedThreadsWhichEndWithIt()
    {
        var names = new ConcurrentBag<string?>();
        DedicatedThreadScheduler? scheduler = null;
        int result = await DedicatedThreads.RunAsync("test worker", 2, () =>
        {
            scheduler = (DedicatedThreadScheduler)TaskScheduler.Current;
            names.Add(Thread.CurrentThread.Name);

            // As the loader and the trainer start their work: a task on the current scheduler and a parallel loop.
            var loaded = Task.Factory.StartNew(() => names.Add(Thread.CurrentThread.Name), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Current);
            Parallel.For(0, 8, _ => names.Add(Thread.CurrentThread.Name));
            loaded.Wait();
            return 42;
        }, CancellationToken.None);

        Assert.Equal(42, result);
        Assert.Equal(10, names.Count);
        Assert.All(names, n => Assert.StartsWith("test worker ", n));
        Assert.NotNull(scheduler);
        Assert.All(scheduler!.Threads, t => Assert.False(t.IsAlive, $"{t.Name} still runs after the work ended"));
    }

    [Fact]
    public async Task OneThreadWaitingForATaskItQueuedRunsItInsteadOfDeadlocking()
    {
        var value = await DedicatedThreads.RunAsync("single", 1, () =>
        {
            var queued = Task.Factory.StartNew(() => 7, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Current);
            return queued.GetAwaiter().GetResult() * 6;
        }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(42, value);
    }

    [Fact]
    public async Task ExceptionsAndCancellationReachTheCaller()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DedicatedThreads.RunAsync<int>("failing", 2, () => throw new InvalidOperationException("broken"), CancellationToken.None));
        Assert.Equal("broken", error.Message);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DedicatedThreads.RunAsync("cancelled", 2, () => 1, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DedicatedThreads.RunAsync<int>("cancelling", 2, () => throw new OperationCanceledException(), CancellationToken.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DedicatedThreadScheduler("none", 0));
    }
}
