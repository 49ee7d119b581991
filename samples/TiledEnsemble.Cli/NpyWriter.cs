using System;
using System.IO;
using System.Text;

namespace TiledEnsemble.Cli;

/// <summary>Writes float32 arrays in NumPy's .npy format (version 1.0), readable with numpy.load.</summary>
internal static class NpyWriter
{
    public static void Write(string path, float[] values, int height, int width)
    {
        if (values.Length != height * width)
        {
            throw new ArgumentException($"{values.Length} values do not fill {height}x{width}.", nameof(values));
        }

        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({height}, {width}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
            stream.Write(Encoding.ASCII.GetBytes(header));
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            stream.Write(bytes);
        });
    }
}
