using System;
using System.Diagnostics;
using System.Linq;

namespace TiledEnsemble.Benchmarks;

/// <summary>Runs this benchmark program again as a child process, for measurements that need a process of their
/// own.</summary>
internal static class BenchmarkChild
{
    /// <summary>
    /// Runs the program's <paramref name="assembly"/> with <paramref name="arguments"/>, waits for it, and returns the
    /// first line of its output that starts with <paramref name="prefix"/> (without the prefix), or null, with its exit
    /// code and whole output.
    /// </summary>
    public static (string? Result, int ExitCode, string Output) RunForLine(
        string assembly,
        string prefix,
        params string[] arguments
    )
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments.Prepend(assembly))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return (line?[prefix.Length..].Trim(), process.ExitCode, output);
    }
}
