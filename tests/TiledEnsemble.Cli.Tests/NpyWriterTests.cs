using System;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Tests;

public sealed class NpyWriterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("npy-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The payload of a .npy file of version 1.0 as NumPy defines it: magic, version, header length, header,
    /// then little-endian float32 values row by row.</summary>
    internal static (string Header, float[] Values) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
        int headerLength = bytes[8] | (bytes[9] << 8);
        var values = new float[(bytes.Length - 10 - headerLength) / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BitConverter.ToSingle(bytes, 10 + headerLength + (4 * i));
        }

        return (Encoding.ASCII.GetString(bytes, 10, headerLength), values);
    }

    [Fact]
    public void AMapIsWrittenRowByRowWithItsShape()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_root, "map.npy");
        var map = tensor(Enumerable.Range(0, 15).Select(i => i * 0.5f).ToArray(), new long[] { 3, 5 });

        NpyWriter.Write(path, map);

        var (header, values) = Read(path);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Assert.Contains("'shape': (3, 5)", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(0, (10 + header.Length) % 64);
        Assert.Equal(15, values.Length);
        for (int row = 0; row < 3; row++)
        {
            for (int column = 0; column < 5; column++)
            {
                Assert.Equal(((row * 5) + column) * 0.5f, values[(row * 5) + column]);
            }
        }
    }

    [Fact]
    public void AMapThatIsAViewIntoABatchIsWrittenFromItsOwnOffset()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_root, "second.npy");
        var batch = tensor(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), new long[] { 2, 2, 3 });

        NpyWriter.Write(path, batch[1]);

        var (header, values) = Read(path);
        Assert.Contains("'shape': (2, 3)", header);
        Assert.Equal(new float[] { 6, 7, 8, 9, 10, 11 }, values);
    }

    [Fact]
    public void AMapThatIsNotAContiguousFloatGridIsRefusedAndNothingIsWritten()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_root, "map.npy");
        var transposed = tensor(new float[] { 0, 1, 2, 3, 4, 5 }, new long[] { 2, 3 }).t();
        var doubles = zeros(2, 3, dtype: ScalarType.Float64);
        var batch = zeros(1, 2, 3);

        var error = Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, transposed));
        Assert.Contains("contiguous float32 [H, W]", error.Message);
        Assert.Contains("[3, 2]", error.Message);
        Assert.Contains("Float64", Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, doubles)).Message);
        Assert.Contains("[1, 2, 3]", Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, batch)).Message);
        Assert.False(File.Exists(path));
    }
}
