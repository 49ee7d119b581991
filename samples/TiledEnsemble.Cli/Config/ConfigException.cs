using System;

namespace TiledEnsemble.Cli.Config;

/// <summary>A configuration or usage error: the command exits with code 2.</summary>
internal sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message) { }
}
