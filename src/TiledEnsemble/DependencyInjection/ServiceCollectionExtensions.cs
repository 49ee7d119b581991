using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TiledEnsemble.Configuration;

namespace TiledEnsemble.DependencyInjection;

/// <summary>Registers tiled ensembles in an application's service collection.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Registers validated <see cref="TiledEnsembleOptions"/> configured in code, and
    /// <see cref="IEnsembleFactory"/>.</summary>
    public static IServiceCollection AddTiledEnsemble(
        this IServiceCollection services,
        Action<TiledEnsembleOptions> configure
    )
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<TiledEnsembleOptions>().Configure(configure);
        return AddCore(services);
    }

    /// <summary>Registers <see cref="TiledEnsembleOptions"/> bound from a configuration section (validated), and
    /// <see cref="IEnsembleFactory"/>.</summary>
    public static IServiceCollection AddTiledEnsemble(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<TiledEnsembleOptions>().Bind(section, binder => binder.ErrorOnUnknownConfiguration = true);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<TiledEnsembleOptions>, TiledEnsembleOptionsValidator>()
        );
        services.TryAddSingleton<IEnsembleFactory, EnsembleFactory>();
        return services;
    }
}
