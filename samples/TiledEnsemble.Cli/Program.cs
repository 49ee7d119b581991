// tiled-ensemble: train, eval, predict and demo (see CliApp for exit codes).
using System;
using System.Threading;
using TiledEnsemble.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop after the current step; finished positions stay saved.
    e.Cancel = true;
    cancellation.Cancel();
};
return await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
