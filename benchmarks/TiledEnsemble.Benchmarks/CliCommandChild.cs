using System;
using System.IO;
using TiledEnsemble.Cli;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// A command of <c>tiled-ensemble</c> run in a child process of its own, as the CLI runs it, which reports the
/// process's peak resident set (<c>VmHWM</c>, native memory included) when the command has returned.
/// </summary>
internal static class CliCommandChild
{
    /// <summary>The argument that makes this program the child.</summary>
    public const string Flag = "--cli-command-child";

    /// <summary>The child: runs the command, then prints its peak resident set.</summary>
    public static int ChildMain(string[] command)
    {
        int code = CliApp.RunAsync(command, TextWriter.Null, Console.Error).GetAwaiter().GetResult();
        Console.WriteLine(FormattableString.Invariant($"peak {ProcessMemory.Peak()}"));
        return code;
    }

    /// <summary>Runs <paramref name="command"/> in a child and returns its peak resident set, in bytes.</summary>
    public static long PeakOf(params string[] command)
    {
        var arguments = new string[command.Length + 1];
        arguments[0] = Flag;
        command.CopyTo(arguments, 1);
        var (peak, exitCode, _) = BenchmarkChild.RunForLine(
            typeof(CliCommandChild).Assembly.Location,
            "peak ",
            arguments
        );
        if (exitCode != 0 || peak is null)
        {
            throw new InvalidOperationException(
                $"`tiled-ensemble {string.Join(' ', command)}` failed (exit code {exitCode})."
            );
        }

        return long.Parse(peak, System.Globalization.CultureInfo.InvariantCulture);
    }
}
