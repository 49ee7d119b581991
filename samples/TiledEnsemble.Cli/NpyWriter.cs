using System;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli;

/// <summary>Writes float32 arrays in NumPy's .npy format (version 1.0), readable with numpy.load.</summary>
internal static class NpyWriter
{
    /// <summary>Writes a float32 map [H, W] straight from the tensor's memory: a map of 8192² is 256 MiB, which a copy
    /// would hold twice more.</summary>
    public static void Write(string path, Tensor map)
    {
        bool cpuFloatGrid = map.dim() == 2 && map.dtype == ScalarType.Float32 && map.device_type == DeviceType.CPU;
        if (!cpuFloatGrid || !map.is_contiguous())
        {
            throw new ArgumentException(
                $"the map must be a contiguous float32 [H, W] tensor on the CPU; got {map.dtype} {map.device_type} "
                    + $"[{string.Join(", ", map.shape)}].",
                nameof(map)
            );
        }

        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({map.shape[0]}, {map.shape[1]}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
            stream.Write(Encoding.ASCII.GetBytes(header));
            stream.Write(map.bytes);
        });
    }
}
