using System;
using System.CommandLine;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using TiledEnsemble.Cli.Commands;
using TiledEnsemble.Cli.Config;

namespace TiledEnsemble.Cli;

/// <summary>
/// The command line: <c>train</c>, <c>eval</c>, <c>predict</c>, <c>demo</c> and <c>doctor</c>. Exit codes: 0 success, 1
/// runtime error, 2 bad usage or configuration, 130 interrupted (Ctrl-C) or 143 terminated (SIGTERM); finished work is
/// kept.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int RuntimeError = 1;
    public const int UsageError = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default
    )
    {
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = AnsiSupport.Detect,
                ColorSystem = ColorSystemSupport.Detect,
            }
        );
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Show details and stack traces.",
            Recursive = true,
        };
        var root = new RootCommand("TiledEnsemble: high-resolution anomaly detection with a tiled ensemble.")
        {
            verbose,
        };
        var context = new CommandContext(console, output, error);
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        root.Subcommands.Add(DemoCommand.Create(context));
        root.Subcommands.Add(DoctorCommand.Create(context));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                error.WriteLine(problem.Message);
            }

            error.WriteLine("Run with --help for usage.");
            return UsageError;
        }

        context.Verbose = parse.GetValue(verbose);
        try
        {
            return await parse
                .InvokeAsync(
                    new InvocationConfiguration
                    {
                        Output = output,
                        Error = error,
                        EnableDefaultExceptionHandler = false,
                    },
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
        catch (ConfigException exception)
        {
            error.WriteLine($"Configuration error: {exception.Message}");
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine(
                "Interrupted; finished work is kept (train again with the same config and run directory to resume)."
            );
            return Interrupted;
        }
        catch (Exception exception)
            when (exception
                    is IOException
                        or InvalidOperationException
                        or ArgumentException
                        or UnauthorizedAccessException
                        or NotSupportedException
                        or Microsoft.Extensions.Options.OptionsValidationException
                        or Models.Diagnostics.ConvolutionSelfCheckException
            )
        {
            error.WriteLine($"Error: {exception.Message}");
            if (context.Verbose)
            {
                error.WriteLine(exception);
            }

            return RuntimeError;
        }
        catch (Exception exception)
        {
            // Anything else is a fault of ours, not of the input; it still ends as an error with a message, never as an
            // abort that loses what was written and tells the user nothing.
            error.WriteLine(
                $"Error: an unexpected {exception.GetType().Name}: {exception.Message} (a fault of tiled-ensemble; run "
                    + "with --verbose for its stack trace and report it)."
            );
            if (context.Verbose)
            {
                error.WriteLine(exception);
            }

            return RuntimeError;
        }
    }
}

/// <summary>What every command needs: the console, the writers and logging.</summary>
internal sealed class CommandContext
{
    public CommandContext(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        Console = console;
        Output = output;
        Error = error;
    }

    public IAnsiConsole Console { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public bool Verbose { get; set; }

    public ILoggerFactory Loggers =>
        _loggers ??= LoggerFactory.Create(builder =>
            builder
                .SetMinimumLevel(Verbose ? LogLevel.Information : LogLevel.Warning)
                .AddSimpleConsole(o => o.SingleLine = true)
        );

    private ILoggerFactory? _loggers;

    public IProgress<EnsembleProgress> Progress => new LineProgress(Output);

    /// <summary>Runs long work with a progress bar on an interactive terminal, and with one line per step
    /// otherwise.</summary>
    public async Task<T> WithProgressAsync<T>(string title, Func<IProgress<EnsembleProgress>, Task<T>> work)
    {
        bool interactive = ReferenceEquals(Output, System.Console.Out) && !System.Console.IsOutputRedirected;
        if (!interactive)
        {
            return await work(Progress).ConfigureAwait(false);
        }

        T result = default!;
        await Console
            .Progress()
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn()
            )
            .AutoClear(false)
            .StartAsync(async context =>
            {
                var task = context.AddTask(title);
                var progress = new BarProgress(task);
                result = await work(progress).ConfigureAwait(false);
                task.Value = task.MaxValue;
            })
            .ConfigureAwait(false);
        return result;
    }

    private sealed class BarProgress : IProgress<EnsembleProgress>
    {
        private readonly ProgressTask _task;

        public BarProgress(ProgressTask task) => _task = task;

        public void Report(EnsembleProgress value)
        {
            _task.Description = $"{value.Stage.ToString().ToLowerInvariant()}: {Markup.Escape(value.Message)}";
            _task.MaxValue = Math.Max(1, value.Total);
            _task.Value = value.Step;
        }
    }

    private sealed class LineProgress : IProgress<EnsembleProgress>
    {
        private readonly TextWriter _output;

        public LineProgress(TextWriter output) => _output = output;

        public void Report(EnsembleProgress value)
        {
            if (value.Stage == EnsembleStage.Training || value.Step == value.Total)
            {
                _output.WriteLine(
                    $"[{value.Stage.ToString().ToLowerInvariant()}] {value.Step}/{value.Total} {value.Message}"
                );
            }
        }
    }
}
