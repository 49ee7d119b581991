using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Serialization;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests.Backbones;

public sealed class WeightLoadingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("weights-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Dictionary<string, Tensor> StateOf(ResNet model, bool withBatchesTracked = true)
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.named_parameters())
        {
            using var detached = p.detach();
            state[name] = detached.clone();
        }

        foreach (var (name, b) in model.named_buffers())
        {
            if (withBatchesTracked || !name.EndsWith("num_batches_tracked"))
            {
                using var detached = b.detach();
                state[name] = detached.clone();
            }
        }

        return state;
    }

    [Fact]
    public void ASavedSafetensorsFileReproducesTheForwardPass()
    {
        using var scope = NewDisposeScope();
        using var source = ResNet.Create(BackboneKind.ResNet18, 11);
        using (no_grad())
        {
            // Non-trivial batch-norm statistics, so that buffers matter too.
            foreach (var (name, buffer) in source.named_buffers().Where(b => b.name.EndsWith("running_mean")))
            {
                buffer.copy_(rand(buffer.shape).mul(TestTensors.Scalar(0.1)));
            }
        }

        var state = StateOf(source);
        state["fc.weight"] = zeros(1000, 512);
        state["fc.bias"] = zeros(1000);
        var path = Path.Combine(_directory, "resnet18.safetensors");
        SafeTensors.Save(path, state, new Dictionary<string, string> { ["tag"] = "test-weights" });

        using var target = ResNet.Create(BackboneKind.ResNet18, 99);
        var metadata = BackboneWeights.LoadSafeTensors(target, path);
        Assert.Equal("test-weights", metadata["tag"]);
        var input = TestTensors.Rand(new long[] { 2, 3, 64, 64 }, 4);
        Assert.True(source.forward(input).eq(target.forward(input)).all().item<bool>());
    }

    [Fact]
    public void HalfPrecisionAndPrefixedFilesLoad()
    {
        using var scope = NewDisposeScope();
        using var source = ResNet.Create(BackboneKind.ResNet18, 12);
        var state = StateOf(source, withBatchesTracked: false)
            .ToDictionary(
                e => "module." + e.Key,
                e => e.Value.to_type(e.Key.Contains("running") ? ScalarType.BFloat16 : ScalarType.Float16)
            );
        var path = Path.Combine(_directory, "half.safetensors");
        SafeTensors.Save(path, state);
        using var target = ResNet.Create(BackboneKind.ResNet18, 13);
        BackboneWeights.LoadSafeTensors(target, path);
        var expected = source.named_parameters().First(p => p.name == "layer1.0.conv1.weight").parameter;
        var loaded = target.named_parameters().First(p => p.name == "layer1.0.conv1.weight").parameter;
        Assert.True((expected - loaded).abs().max().item<float>() < 1e-2);
    }

    [Fact]
    public void StrictLoadingNamesMissingUnexpectedAndMismatchedKeys()
    {
        using var scope = NewDisposeScope();
        using var source = ResNet.Create(BackboneKind.ResNet18, 1);
        var state = StateOf(source);
        state.Remove("layer2.1.conv2.weight");
        state["layer9.0.conv1.weight"] = zeros(3);
        state["conv1.weight"] = zeros(64, 3, 5, 5);
        var path = Path.Combine(_directory, "bad.safetensors");
        SafeTensors.Save(path, state);
        using var target = ResNet.Create(BackboneKind.ResNet18, 2);
        var error = Assert.Throws<WeightLoadException>(() => BackboneWeights.LoadSafeTensors(target, path));
        Assert.Equal(new[] { "layer2.1.conv2.weight" }, error.Missing);
        Assert.Equal(new[] { "layer9.0.conv1.weight" }, error.Unexpected);
        Assert.Contains("conv1.weight: file [64, 3, 5, 5] vs model [64, 3, 7, 7]", error.ShapeMismatches);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void SafetensorsRoundTripKeepsValuesDtypesAndMetadata()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = TestTensors.Arange(6, ScalarType.Float32).reshape(2, 3),
            ["b"] = tensor(new long[] { -1, 5 }),
            ["c"] = tensor(new[] { true, false, true }),
            ["d"] = tensor(new double[] { Math.PI }),
            ["empty"] = zeros(0, 4),
        };
        var path = Path.Combine(_directory, "mixed.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var (loaded, metadata) = SafeTensors.Load(path);
        Assert.Equal("pt", metadata["format"]);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.True(t.eq(loaded[name]).all().item<bool>());
        }

        // Independent check of the layout: 8-byte little-endian header length, then JSON with offsets.
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", header);
        Assert.Equal(0, (8 + headerLength) % 8);
    }

    [Fact]
    public void MalformedFilesGiveClearErrorsWithoutReadingOutOfBounds()
    {
        using var scope = NewDisposeScope();
        var good = Path.Combine(_directory, "good.safetensors");
        SafeTensors.Save(good, new Dictionary<string, Tensor> { ["x"] = ones(4, 4), ["y"] = ones(2) });
        var bytes = File.ReadAllBytes(good);

        string Write(string name, byte[] content)
        {
            var path = Path.Combine(_directory, name);
            File.WriteAllBytes(path, content);
            return path;
        }

        var truncated = Write("truncated.safetensors", bytes.Take(bytes.Length - 3).ToArray());
        Assert.Contains(truncated, Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(truncated)).Message);

        var huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(long.MaxValue / 2).CopyTo(huge, 0);
        Assert.Contains(
            "more than",
            Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(Write("huge.safetensors", huge))).Message
        );

        Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(Write("tiny.safetensors", new byte[] { 1, 2, 3 })));

        string Forge(string json, int dataBytes)
        {
            var header = Encoding.UTF8.GetBytes(json);
            var content = BitConverter
                .GetBytes((long)header.Length)
                .Concat(header)
                .Concat(new byte[dataBytes])
                .ToArray();
            return Write(Guid.NewGuid().ToString("N") + ".safetensors", content);
        }

        Assert.Contains(
            "outside",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(Forge("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,400]}}", 16))
                )
                .Message
        );
        Assert.Contains(
            "needs 16",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(Forge("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8))
                )
                .Message
        );
        Assert.Contains(
            "contiguous",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(Forge("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8))
                )
                .Message
        );
        Assert.Contains(
            "dtype",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(Forge("{\"x\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1))
                )
                .Message
        );
        Assert.Contains(
            "malformed",
            Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(Forge("{\"x\": [", 0))).Message
        );
        // Crafted headers: a missing field, a shape whose size overflows 64 bits, a tensor described twice, an entry
        // that is not an object, and non-finite weights.
        Assert.Contains(
            "has no 'dtype'",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(Forge("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4))
                )
                .Message
        );
        Assert.Contains(
            "overflows",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(
                        Forge("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0)
                    )
                )
                .Message
        );
        Assert.Contains(
            "described twice",
            Assert
                .Throws<SafeTensorsException>(() =>
                    SafeTensors.Load(
                        Forge(
                            "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                                + "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                            2
                        )
                    )
                )
                .Message
        );
        Assert.Contains(
            "not an object",
            Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(Forge("{\"x\":7}", 0))).Message
        );
        var nan = Path.Combine(_directory, "nan.safetensors");
        using (var inner = NewDisposeScope())
        {
            SafeTensors.Save(
                nan,
                new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, float.NaN }), ["i"] = tensor(new[] { 1L }) }
            );
            var (loaded, _) = SafeTensors.Load(nan);
            var error = Assert.Throws<SafeTensorsException>(() => SafeTensors.RequireFinite(nan, loaded));
            Assert.Contains("tensor 'w' holds NaN", error.Message);
            SafeTensors.RequireFinite(nan, new Dictionary<string, Tensor> { ["i"] = loaded["i"] });
        }

        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(Path.Combine(_directory, "none.safetensors")));
    }
}
