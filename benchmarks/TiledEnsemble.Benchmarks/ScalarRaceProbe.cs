using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Shows the race that analyzer TE0001 guards against: <c>t.add(s)</c> passes TorchSharp's own temporary 1 as alpha,
/// which a collection on another thread can finalize while libtorch reads it; <c>t.add(s, one)</c> with a held 1
/// cannot. Each call runs for the given seconds beside a thread that collects garbage in a loop, and the failed calls
/// are counted.
/// </summary>
internal static class ScalarRaceProbe
{
    public static void Run(double seconds)
    {
        Console.WriteLine(
            $"## TorchSharp's temporary Scalars under garbage collection "
                + $"({seconds.ToString(CultureInfo.InvariantCulture)} s per row)"
        );
        Console.WriteLine("| call | calls | failed |");
        Console.WriteLine("| --- | --- | --- |");
        using var eps = 1e-5.ToScalar();
        using var one = 1L.ToScalar();
        using var values = ones(64);
#pragma warning disable TE0001 // the unsafe call is what this probe measures
        Row("ones(64).add(eps): TorchSharp's implicit alpha", () => values.add(eps), seconds);
#pragma warning restore TE0001
        Row("ones(64).add(eps, one): a held alpha", () => values.add(eps, one), seconds);
        Console.WriteLine();
    }

    private static void Row(string name, Func<Tensor> call, double seconds)
    {
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        })
        {
            IsBackground = true,
        };
        collector.Start();
        long calls = 0,
            failed = 0;
        var watch = Stopwatch.StartNew();
        for (; watch.Elapsed.TotalSeconds < seconds; calls++)
        {
            try
            {
                call().Dispose();
            }
            catch (ExternalException)
            {
                failed++;
            }
        }

        Volatile.Write(ref stop, true);
        collector.Join();
        Console.WriteLine(FormattableString.Invariant($"| {name} | {calls:N0} | {failed} |"));
    }
}
