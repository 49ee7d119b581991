using System;
using System.Runtime.InteropServices;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>
/// libtorch's global backend switches (<c>torch.backends.nnpack.enabled</c>, <c>torch.backends.mkldnn.enabled</c> in
/// PyTorch), which TorchSharp does not expose: called through the exported C++ members of <c>at::Context</c>.
/// </summary>
/// <remarks>
/// Each switch is looked up once. Where the library or the symbol cannot be found (another platform's mangling, a
/// libtorch without them) the switch reports <see langword="false"/> and changes nothing, so callers degrade to
/// libtorch's defaults instead of failing.
/// </remarks>
internal static class LibTorchSwitches
{
    private static readonly Lazy<Exports?> Functions = new(Resolve);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFlag(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool GetFlag(IntPtr context);

    /// <summary>Whether the switches could be reached in the loaded libtorch.</summary>
    public static bool Available => Functions.Value is not null;

    /// <summary>libtorch's NNPACK switch; <see langword="null"/> when it cannot be read.</summary>
    public static bool? NnpackEnabled => Functions.Value is { } f ? f.GetNnpack(f.Context()) : null;

    /// <summary>libtorch's oneDNN (MKL-DNN) switch; <see langword="null"/> when it cannot be read.</summary>
    public static bool? OneDnnEnabled => Functions.Value is { } f ? f.GetMkldnn(f.Context()) : null;

    /// <summary>Turns NNPACK on or off; <see langword="false"/> when the switch could not be reached.</summary>
    public static bool SetNnpack(bool enabled)
    {
        if (Functions.Value is not { } f)
        {
            return false;
        }

        f.SetNnpack(f.Context(), enabled);
        return true;
    }

    /// <summary>Turns oneDNN on or off; <see langword="false"/> when the switch could not be reached.</summary>
    public static bool SetOneDnn(bool enabled)
    {
        if (Functions.Value is not { } f)
        {
            return false;
        }

        f.SetMkldnn(f.Context(), enabled);
        return true;
    }

    private static Exports? Resolve()
    {
        // TorchSharp loads libtorch on first use; after that the name resolves to the copy already in the process.
        _ = TorchSharp.torch.get_num_threads();
        var (library, names) = OperatingSystem.IsWindows()
            ? (
                "torch_cpu.dll",
                new[]
                {
                    "?globalContext@at@@YAAEAVContext@1@XZ",
                    "?setUserEnabledNNPACK@Context@at@@QEAAX_N@Z",
                    "?userEnabledNNPACK@Context@at@@QEBA_NXZ",
                    "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z",
                    "?userEnabledMkldnn@Context@at@@QEBA_NXZ",
                }
            )
            : (
                OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so",
                new[]
                {
                    "_ZN2at13globalContextEv",
                    "_ZN2at7Context20setUserEnabledNNPACKEb",
                    "_ZNK2at7Context17userEnabledNNPACKEv",
                    "_ZN2at7Context20setUserEnabledMkldnnEb",
                    "_ZNK2at7Context17userEnabledMkldnnEv",
                }
            );
        if (!NativeLibrary.TryLoad(library, out var handle))
        {
            return null;
        }

        var pointers = new IntPtr[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(handle, names[i], out pointers[i]))
            {
                return null;
            }
        }

        return new Exports(
            Marshal.GetDelegateForFunctionPointer<GlobalContext>(pointers[0]),
            Marshal.GetDelegateForFunctionPointer<SetFlag>(pointers[1]),
            Marshal.GetDelegateForFunctionPointer<GetFlag>(pointers[2]),
            Marshal.GetDelegateForFunctionPointer<SetFlag>(pointers[3]),
            Marshal.GetDelegateForFunctionPointer<GetFlag>(pointers[4])
        );
    }

    private sealed record Exports(
        GlobalContext Context,
        SetFlag SetNnpack,
        GetFlag GetNnpack,
        SetFlag SetMkldnn,
        GetFlag GetMkldnn
    );
}
