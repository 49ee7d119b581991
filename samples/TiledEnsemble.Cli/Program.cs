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
    cancellation.Cancel();
};

// SIGTERM (kill, systemd, Kubernetes) stops the same way as Ctrl-C, and the process exits with 128 + 15.
int terminated = 0;
using var termination = OperatingSystem.IsWindows()
    ? null
    : PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        terminated = CliApp.Terminated;
        cancellation.Cancel();
    });
int code = await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
return code == CliApp.Interrupted && terminated != 0 ? terminated : code;
