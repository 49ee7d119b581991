using System;
using System.Runtime.InteropServices;

namespace TiledEnsemble.Cli;

/// <summary>
/// Ends the process at once with an exit code, for the stop watchdog. <see cref="Environment.Exit"/> runs the native
/// libraries' exit handlers and static destructors while another thread may still be inside libtorch; that races and
/// can end the process with SIGSEGV (exit 139) instead of the code asked for. Nothing needs those handlers here:
/// every file is written beside its destination and renamed over it, and the console is flushed first.
/// </summary>
internal static class ImmediateExit
{
    public static void Now(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (OperatingSystem.IsWindows())
        {
            Environment.Exit(exitCode);
            return;
        }

        ExitWithoutHandlers(exitCode);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern void ExitWithoutHandlers(int status);
}
