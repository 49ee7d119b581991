using System;
using System.Diagnostics;

namespace TiledEnsemble.Benchmarks;

/// <summary>Wall-clock time of one piece of work.</summary>
internal static class Timing
{
    /// <summary>Seconds that <paramref name="action"/> takes.</summary>
    public static double Seconds(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Images per second of <paramref name="action"/>, which processes <paramref name="images"/>
    /// images.</summary>
    public static double ImagesPerSecond(int images, Action action) => images / Seconds(action);
}
