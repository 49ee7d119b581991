using System;

namespace TiledEnsemble.Hosting;

/// <summary>
/// Checks, before an ensemble is built or loaded, that TorchSharp found its native runtime (libtorch), so that a
/// missing runtime package is one clear exception instead of TorchSharp's type-initialization failure deep inside a
/// call.
/// </summary>
internal static class NativeRuntime
{
    private static readonly Lazy<Exception?> Failure = new(Probe);

    /// <exception cref="InvalidOperationException">libtorch could not be loaded; the message names the packages to
    /// choose from.</exception>
    public static void EnsureLoaded()
    {
        if (Failure.Value is { } failure)
        {
            throw new InvalidOperationException(
                "TorchSharp's native runtime (libtorch) could not be loaded. Add exactly one runtime package to the "
                    + "application: "
                    + "TorchSharp-cpu (CPU), TorchSharp-cuda-linux (CUDA on Linux) or TorchSharp-cuda-windows (CUDA "
                    + "on Windows), "
                    + $"for example `dotnet add package TorchSharp-cpu --version 0.107.0`. TorchSharp said: "
                    + $"{Innermost(failure).Message}",
                failure
            );
        }
    }

    private static Exception? Probe()
    {
        // OpenMP reads its wait policy when libtorch loads: decide it first.
        _ = OpenMpWaitPolicy.Applied;
        try
        {
            _ = TorchSharp.torch.get_num_threads();
            return null;
        }
        catch (Exception exception)
            when (exception
                    is TypeInitializationException
                        or NotSupportedException
                        or DllNotFoundException
                        or InvalidOperationException
            )
        {
            return exception;
        }
    }

    private static Exception Innermost(Exception exception) =>
        exception.InnerException is { } inner ? Innermost(inner) : exception;
}
