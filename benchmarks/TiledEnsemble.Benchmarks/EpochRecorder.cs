using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// A logger factory that keeps, from the training log of each tile position, how many epochs ran and which was kept:
/// the one record of a gradient-trained model's training length (the run folder keeps only the weights).
/// </summary>
internal sealed class EpochRecorder : ILoggerFactory, ILogger
{
    private readonly List<(int Run, int Kept)> _positions = new();
    private readonly List<string> _early = new();

    /// <summary>Epochs run and epochs kept, one pair per trained position, in the order they finished.</summary>
    public IReadOnlyList<(int Run, int Kept)> Positions
    {
        get
        {
            lock (_positions)
            {
                return _positions.ToArray();
            }
        }
    }

    /// <summary>The seed of the trainings recorded from now on, named in <see cref="KeptEarly"/>.</summary>
    public int? Seed { get; set; }

    /// <summary>The positions whose kept epoch is not the last run, as "seed s (row, column) kept k of R, metric m", in
    /// the order they finished: where a choice of checkpoint made a difference.</summary>
    public IReadOnlyList<string> KeptEarly
    {
        get
        {
            lock (_positions)
            {
                return _early.ToArray();
            }
        }
    }

    /// <summary>"run r–R, kept k–K (mean m)" over the positions recorded, or "none" before any.</summary>
    public static string Describe(IReadOnlyCollection<(int Run, int Kept)> positions) =>
        positions.Count == 0
            ? "none"
            : string.Create(
                CultureInfo.InvariantCulture,
                $"run {positions.Min(p => p.Run)}–{positions.Max(p => p.Run)}, kept {positions.Min(p => p.Kept)}–"
                    + $"{positions.Max(p => p.Kept)} (mean {positions.Average(p => p.Kept):F1})"
            );

    public void AddProvider(ILoggerProvider provider) { }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter
    )
    {
        // The training summary's structured values, not its wording: {Epochs} and {Best} of PositionTrainer's message.
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        int? Value(string key) => values.FirstOrDefault(v => v.Key == key).Value as int?;
        if (Value("Epochs") is { } run && Value("Best") is { } kept)
        {
            lock (_positions)
            {
                _positions.Add((run, kept));
                if (kept < run)
                {
                    object? metric = values.FirstOrDefault(v => v.Key == "Metric").Value;
                    _early.Add(
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $"seed {Seed} ({Value("Row")}, {Value("Column")}) kept {kept} of {run}, metric {metric:F4}"
                        )
                    );
                }
            }
        }
    }

    public void Dispose() { }
}
