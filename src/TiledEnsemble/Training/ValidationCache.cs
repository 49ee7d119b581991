using System;
using System.IO;
using System.Runtime.InteropServices;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Training;

/// <summary>
/// Raw validation predictions of each position on disk (float32 maps, then scores), written atomically once per
/// position and read back a batch at a time, so image-stage statistics never need more than one model in memory.
/// </summary>
internal sealed class ValidationCache
{
    private readonly string _directory;
    private readonly Size2D _tile;
    private readonly int _count;

    public ValidationCache(string runDirectory, TileGrid grid, int count)
    {
        _directory = Path.Combine(runDirectory, "validation-cache");
        _tile = grid.TileSize;
        _count = count;
    }

    private long TilePixels => (long)_tile.Height * _tile.Width;

    private long ExpectedBytes => ((_count * TilePixels) + _count) * sizeof(float);

    public bool Has(TilePosition position)
    {
        var file = new FileInfo(PathOf(position));
        return file.Exists && file.Length == ExpectedBytes;
    }

    public void Write(TilePosition position, (float[] Maps, float[] Scores) predictions)
    {
        AtomicFile.Write(PathOf(position), stream =>
        {
            stream.Write(MemoryMarshal.AsBytes(predictions.Maps.AsSpan()));
            stream.Write(MemoryMarshal.AsBytes(predictions.Scores.AsSpan()));
        });
    }

    /// <summary>Maps [n, 1, th, tw] and scores [n] of validation images first..first+n.</summary>
    public (TilePosition Position, Tensor Maps, Tensor Scores) Read(
        TilePosition position,
        int first,
        int n,
        Device device
    )
    {
        using var stream = new FileStream(PathOf(position), FileMode.Open, FileAccess.Read);
        var maps = new float[n * TilePixels];
        stream.Position = first * TilePixels * sizeof(float);
        stream.ReadExactly(MemoryMarshal.AsBytes(maps.AsSpan()));
        var scores = new float[n];
        stream.Position = ((_count * TilePixels) + first) * sizeof(float);
        stream.ReadExactly(MemoryMarshal.AsBytes(scores.AsSpan()));
        return (
            position,
            tensor(maps, new long[] { n, 1, _tile.Height, _tile.Width }, device: device),
            tensor(scores, device: device)
        );
    }

    public void Delete()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string PathOf(TilePosition position) => Path.Combine(_directory, $"r{position.Row}_c{position.Column}.bin");
}
