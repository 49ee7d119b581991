using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TiledEnsemble.Hosting;

/// <summary>
/// Sets OpenMP's wait policy to passive (<c>OMP_WAIT_POLICY=PASSIVE</c>) for libtorch, unless the application chose
/// one.
/// </summary>
/// <remarks>
/// <para>libtorch's CPU operators run on OpenMP, whose idle threads spin between parallel regions by default. When
/// another process competes for the cores — acquisition and a user interface next to inspection on a line PC — the
/// spinning threads steal the time the working ones need: with one core of two kept busy, the backbone ran at
/// 0.62–0.64 of ONNX Runtime's speed with spinning and at 0.94–1.03 with passive waiting, while on a quiet machine
/// both gave 0.80–0.85 (<c>-- peer</c>, docs/benchmarks.md). GNU OpenMP reads the variable once, when libtorch is
/// loaded, so it is set when this assembly loads — before the first TorchSharp call of a program that starts with
/// TiledEnsemble.</para>
/// <para>An explicit <c>OMP_WAIT_POLICY</c> in the environment is kept; setting
/// <c>TILEDENSEMBLE_OMP_WAIT_POLICY=keep</c>
/// leaves OpenMP's default. A program that loads libtorch before touching any TiledEnsemble type gets OpenMP's default
/// (set the variable yourself then).</para>
/// </remarks>
public static class OpenMpWaitPolicy
{
    /// <summary>Set to <c>keep</c> to leave OpenMP's default wait policy.</summary>
    public const string OptOutVariable = "TILEDENSEMBLE_OMP_WAIT_POLICY";

    /// <summary>What was decided when the assembly loaded: "PASSIVE (set by TiledEnsemble)", the application's value,
    /// or "default".</summary>
    public static string Applied { get; private set; } = "default";

    [SuppressMessage(
        "Usage",
        "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "OpenMP reads its environment once, when libtorch loads; only a module initializer runs "
            + "early enough, and it does nothing but set one variable the application has not set."
    )]
    [ModuleInitializer]
    internal static void Apply()
    {
        var chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        if (!string.IsNullOrEmpty(chosen))
        {
            Applied = chosen;
            return;
        }

        if (
            string.Equals(
                Environment.GetEnvironmentVariable(OptOutVariable),
                "keep",
                StringComparison.OrdinalIgnoreCase
            )
        )
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
        }
        else
        {
            // .NET keeps its own copy of the environment on Unix; the native one is what OpenMP reads.
            if (SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0) != 0)
            {
                return;
            }

            Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
        }

        Applied = "PASSIVE (set by TiledEnsemble)";
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int SetEnv(string name, string value, int overwrite);
}
