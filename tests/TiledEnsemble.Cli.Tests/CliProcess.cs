using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TiledEnsemble.Cli.Tests;

/// <summary>The real command line in its own process, as a user runs it (signals, locks and exit codes are
/// real).</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;
    private readonly Task<string> _error;

    private CliProcess(Process process)
    {
        _process = process;
        _output = process.StandardOutput.ReadToEndAsync();
        _error = process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static CliProcess Start(
        string workingDirectory,
        IReadOnlyDictionary<string, string>? environment,
        params string[] args
    )
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(typeof(CliApp).Assembly.Location);
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new CliProcess(Process.Start(start)!);
    }

    public static (int Code, string Output, string Error) Run(string workingDirectory, params string[] args)
    {
        using var process = Start(workingDirectory, null, args);
        return process.Wait(TimeSpan.FromMinutes(5));
    }

    /// <summary>Sends a POSIX signal (INT, TERM) as a terminal or a service manager would.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    /// <summary>Waits until <paramref name="condition"/> holds or the process ends; false on timeout.</summary>
    public bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                return condition();
            }

            Thread.Sleep(20);
        }

        return true;
    }

    public (int Code, string Output, string Error) Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException(
                $"tiled-ensemble did not finish within {timeout}: {_output.Result}{_error.Result}"
            );
        }

        return (_process.ExitCode, _output.Result, _error.Result);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
