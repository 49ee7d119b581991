using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// A logger factory that keeps, from the training log of each tile position, how many epochs ran and which was kept:
/// the one record of a gradient-trained model's training length (the run folder keeps only the weights).
/// </summary>
internal sealed partial class EpochRecorder : ILoggerFactory, ILogger
{
    private readonly List<(int Run, int Kept)> _positions = new();

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
        var match = Summary().Match(formatter(state, exception));
        if (match.Success)
        {
            lock (_positions)
            {
                _positions.Add(
                    (
                        int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                        int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)
                    )
                );
            }
        }
    }

    public void Dispose() { }

    [GeneratedRegex(@"^Position \(\d+, \d+\): (\d+) epoch\(s\), best epoch (\d+),")]
    private static partial Regex Summary();
}
