using System;
using System.Globalization;

namespace TiledEnsemble.Cli;

/// <summary>
/// How long a command may take to stop after Ctrl-C or SIGTERM before the process exits anyway: 10 s, or the seconds
/// in <c>TILED_ENSEMBLE_STOP_GRACE_SECONDS</c> (for supervisors with a shorter kill timeout, and for tests).
/// </summary>
internal static class StopGrace
{
    public const string Variable = "TILED_ENSEMBLE_STOP_GRACE_SECONDS";

    public static TimeSpan Period =>
        double.TryParse(
            Environment.GetEnvironmentVariable(Variable),
            NumberStyles.Float,
            CultureInfo.InvariantCulture,
            out var seconds
        ) && seconds is > 0 and < 3600
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(10);
}
