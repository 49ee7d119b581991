using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BitMiracle.LibTiff.Classic;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Deployment;
using TiledEnsemble.Persistence;
using TiledEnsemble.Serialization;
using TiledEnsemble.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Fuzz;

/// <summary>
/// Thousands of seeded mutations of valid images (PNG 8 and 16 bit, JPEG, BMP, TIFF), safetensors files and run
/// manifests through the real decoders and loaders: each must give the loader's own exception type, naming the file,
/// or load; any other exception (a NullReferenceException, an OverflowException, an IndexOutOfRangeException) fails,
/// and a native crash ends the test run. Time-bounded per format, so CI stays fast.
/// </summary>
public sealed class MutatedInputFuzzTests : IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(25);
    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("fuzz-").FullName;

    public MutatedInputFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>Runs <paramref name="iterations"/> mutations (or until the time budget) and collects the unexpected
    /// exceptions.</summary>
    private void Run(string name, int iterations, Action<int> attempt, Func<Exception, bool> expected)
    {
        var unexpected = new List<string>();
        var watch = Stopwatch.StartNew();
        int done = 0,
            refused = 0;
        for (; done < iterations && watch.Elapsed < Budget; done++)
        {
            try
            {
                attempt(done);
            }
            catch (Exception exception) when (expected(exception))
            {
                refused++;
            }
            catch (Exception exception)
            {
                unexpected.Add($"#{done}: {exception.GetType().Name}: {exception.Message}\n{exception.StackTrace}");
            }
        }

        _output.WriteLine($"{name}: {done} mutations in {watch.Elapsed.TotalSeconds:F1} s, {refused} refused cleanly");
        Assert.True(
            unexpected.Count == 0,
            $"{name}: {unexpected.Count} unexpected exceptions; first:\n{unexpected.FirstOrDefault()}"
        );
    }

    private byte[] ValidImage(string extension, int bitDepth = 8)
    {
        var path = Path.Combine(_work, $"valid-{bitDepth}{extension}");
        using var scope = NewDisposeScope();
        ImageIO.WriteImage(path, TestTensors.Rand(new long[] { 3, 24, 32 }, 5), bitDepth);
        return File.ReadAllBytes(path);
    }

    private byte[] ValidTiff()
    {
        var path = Path.Combine(_work, "valid.tif");
        using (var tiff = Tiff.Open(path, "w"))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 32);
            tiff.SetField(TiffTag.IMAGELENGTH, 32);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 16);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 3);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.RGB);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.COMPRESSION, Compression.DEFLATE);
            tiff.SetField(TiffTag.TILEWIDTH, 16);
            tiff.SetField(TiffTag.TILELENGTH, 16);
            var tile = Enumerable.Range(0, 16 * 16 * 3 * 2).Select(v => (byte)(v * 7)).ToArray();
            for (int y = 0; y < 32; y += 16)
            {
                for (int x = 0; x < 32; x += 16)
                {
                    tiff.WriteTile(tile, x, y, 0, 0);
                }
            }
        }

        return File.ReadAllBytes(path);
    }

    [Theory]
    [InlineData(".png", 8, 11)]
    [InlineData(".png", 16, 12)]
    [InlineData(".jpg", 8, 13)]
    [InlineData(".bmp", 8, 14)]
    [InlineData(".tif", 16, 15)]
    public void MutatedImagesGiveTheDecodersOwnErrors(string extension, int bitDepth, int seed)
    {
        var valid = extension == ".tif" ? ValidTiff() : ValidImage(extension, bitDepth);
        var mutator = new Mutator(seed);
        var path = Path.Combine(_work, "mutated" + extension);
        Run(
            $"{extension} {bitDepth}-bit",
            2000,
            i =>
            {
                var mutated = mutator.Mutate(valid, focus: 96);

                // Half the PNGs get valid CRCs again, so that the mutation reaches the chunk and pixel parsers instead
                // of stopping at libpng's checksum.
                File.WriteAllBytes(path, extension == ".png" && i % 2 == 0 ? WithPngCrcs(mutated) : mutated);
                if (i % 4 == 3)
                {
                    DeployedImage.FromFile(path, maxSide: 4096, maxPixels: 1 << 20);
                    return;
                }

                using var scope = NewDisposeScope();
                ImageIO.ReadImage(path, ColorMode.Unchanged, maxSide: 4096, maxPixels: 1 << 20);
                ImageIO.ReadSize(path);
            },
            e => e is ImageDecodeException or DeploymentException
        );
    }

    [Fact]
    public void MutatedSafetensorsGiveSafeTensorsErrors()
    {
        var valid = File.ReadAllBytes(
            Path.Combine(AppContext.BaseDirectory, "Golden", "run-v1", "run", "positions", "r0_c0.safetensors")
        );
        var mutator = new Mutator(21);
        var path = Path.Combine(_work, "mutated.safetensors");
        Run(
            "safetensors",
            3000,
            _ =>
            {
                File.WriteAllBytes(path, mutator.Mutate(valid, focus: 256));
                var (tensors, _) = SafeTensors.Load(path);
                try
                {
                    SafeTensors.RequireFinite(path, tensors);
                }
                finally
                {
                    foreach (var tensor in tensors.Values)
                    {
                        tensor.Dispose();
                    }
                }
            },
            e => e is SafeTensorsException
        );
    }

    [Fact]
    public void MutatedManifestsResealedAsAnyoneCanGiveRunErrors()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "Golden", "run-v1", "run");
        var run = Path.Combine(_work, "run");
        foreach (var file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var manifest = Path.Combine(run, RunStore.ManifestFile);
        var valid = File.ReadAllText(manifest);
        var mutator = new Mutator(31);
        Run(
            "manifest",
            300,
            _ =>
            {
                // Resealed, so that the parser and the checks behind the checksum see the mutation.
                File.WriteAllText(manifest, ManifestSeal.Reseal(mutator.Mutate(valid)));
                using var ensemble = Ensemble.Load(run);
            },
            e => e is RunIntegrityException or SafeTensorsException or StageMismatchException
        );
    }

    /// <summary>The PNG with each chunk's CRC recomputed, as far as its chunk lengths can be followed.</summary>
    private static byte[] WithPngCrcs(byte[] png)
    {
        var bytes = (byte[])png.Clone();
        long at = 8;
        while (at + 12 <= bytes.Length)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)at));
            if (at + 12 + length > bytes.Length)
            {
                break;
            }

            uint crc = PngCrc.Compute(bytes.AsSpan((int)at + 4, (int)length + 4));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan((int)(at + 8 + length)), crc);
            at += 12 + length;
        }

        return bytes;
    }
}
