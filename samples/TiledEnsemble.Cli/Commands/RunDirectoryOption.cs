using System.IO;
using TiledEnsemble.Cli.Config;

namespace TiledEnsemble.Cli.Commands;

/// <summary>Checks a run-folder option (<c>--root</c>) before anything is opened, with a message that says what it is
/// instead.</summary>
internal static class RunDirectoryOption
{
    public static string Require(string path, string option)
    {
        if (File.Exists(path))
        {
            throw new ConfigException(
                $"{option} '{path}' is a file; give the run folder (the one holding manifest.json)."
            );
        }

        if (!Directory.Exists(path))
        {
            throw new ConfigException($"{option} '{path}' does not exist.");
        }

        return path;
    }
}
