using System.Collections.Generic;
using System.IO;
using TiledEnsemble.Serialization;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Serialization;

public class SafeTensorsChunkingTests
{
    [Fact]
    public void TensorsStreamedInManySmallChunksRoundTripExactly()
    {
        // Large tensors (over 2 GiB, e.g. Padim's inverse covariance at full resolution) are written and read in
        // chunks; tiny chunks exercise the same offsets on small data.
        var saved = SafeTensors.ChunkBytes;
        var path = Path.Combine(Path.GetTempPath(), $"chunks-{System.Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.ChunkBytes = 12;
            using var scope = NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>
            {
                ["a"] = TestTensors.Arange(1000, ScalarType.Float32).reshape(10, 100),
                ["b"] = TestTensors.Arange(37, ScalarType.Float64),
                ["c"] = TestTensors.Arange(11, ScalarType.Int64).to_type(ScalarType.Float16),
            };
            SafeTensors.Save(path, tensors);
            var (loaded, _) = SafeTensors.Load(path);
            foreach (var (name, tensor) in tensors)
            {
                Assert.True(tensor.eq(loaded[name]).all().item<bool>(), name);
            }
        }
        finally
        {
            SafeTensors.ChunkBytes = saved;
            File.Delete(path);
        }
    }
}
