using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TiledEnsemble.Configuration;

namespace TiledEnsemble.DependencyInjection;

/// <summary>The default <see cref="IEnsembleFactory"/>.</summary>
internal sealed class EnsembleFactory : IEnsembleFactory
{
    private readonly IOptionsMonitor<TiledEnsembleOptions> _options;
    private readonly ILoggerFactory _loggers;

    public EnsembleFactory(IOptionsMonitor<TiledEnsembleOptions> options, ILoggerFactory? loggers = null)
    {
        _options = options;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    public Ensemble Create() =>
        TiledEnsembleBuilder.Create().WithOptions(_options.CurrentValue).WithLogging(_loggers).Build();

    public Ensemble Load(string runDirectory) => Ensemble.Load(runDirectory, loggers: _loggers);
}
