using Microsoft.Extensions.Logging;

namespace TiledEnsemble.Testing;

/// <summary>Hands one <see cref="ListLogger"/> to every category, so that a test sees all a run said.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ListLogger _logger;

    public ListLoggerProvider(ListLogger logger) => _logger = logger;

    public ILogger CreateLogger(string categoryName) => _logger;

    public void Dispose() { }
}
