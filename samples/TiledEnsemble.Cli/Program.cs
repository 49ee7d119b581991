// tiled-ensemble: train, eval, predict, demo and doctor (see CliApp for exit codes).
using System;
using System.Runtime.InteropServices;
using System.Threading;
using TiledEnsemble.Cli;

// OpenMP reads its wait policy when libtorch loads: let the library decide it before anything touches TorchSharp.
_ = TiledEnsemble.Hosting.OpenMpWaitPolicy.Applied;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop after the current step; finished positions stay saved.
    e.Cancel = true;
    Stop(CliApp.Interrupted, "Ctrl-C");
};

// SIGTERM (kill, systemd, Kubernetes) stops the same way as Ctrl-C, and the process exits with 128 + 15.
int terminated = 0;
using var termination = OperatingSystem.IsWindows()
    ? null
    : PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        terminated = CliApp.Terminated;
        Stop(CliApp.Terminated, "SIGTERM");
    });
int code = await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
return code == CliApp.Interrupted && terminated != 0 ? terminated : code;

// Cancels the work, which stops at its next check (between batches, images and positions). A step that does not reach
// one within the grace period (a long native call) does not hold the process: it exits anyway. Nothing is lost that was
// finished, and no file is half-written (every file is written beside its destination and renamed over it).
void Stop(int exitCode, string signal)
{
    cancellation.Cancel();
    var grace = StopGrace.Period;
    new Thread(() =>
    {
        Thread.Sleep(grace);
        Console.Error.WriteLine(
            $"Did not stop within {grace.TotalSeconds:0.###} s of {signal}; exiting now (finished work is kept)."
        );
        ImmediateExit.Now(exitCode);
    })
    {
        IsBackground = true,
        Name = "stop watchdog",
    }.Start();
}
