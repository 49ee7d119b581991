using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Testing;

/// <summary>Keeps every formatted log message, for tests that check what a component said.</summary>
internal sealed class ListLogger : ILogger
{
    public List<string> Messages { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter
    )
    {
        lock (Messages)
        {
            Messages.Add(formatter(state, exception));
        }
    }
}
