using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Tests.Imaging;

public sealed class ImageIOTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Tensor Quantized(int channels, int height, int width, int levels, int seed)
    {
        using var scope = NewDisposeScope();
        return TestTensors
            .Rand(new long[] { channels, height, width }, (ulong)seed)
            .mul(TestTensors.Scalar(levels))
            .floor()
            .div(TestTensors.Scalar(levels))
            .MoveToOuterDisposeScope();
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(3, 8)]
    [InlineData(4, 8)]
    [InlineData(1, 16)]
    [InlineData(3, 16)]
    [InlineData(4, 16)]
    public void PngRoundTripsExactly(int channels, int bitDepth)
    {
        using var scope = NewDisposeScope();
        int levels = bitDepth == 8 ? 255 : 65535;
        var image = Quantized(channels, 9, 13, levels, channels * bitDepth);
        var path = _temp.Combine($"c{channels}-{bitDepth}.png");
        ImageIO.WriteImage(path, image, bitDepth);
        var back = ImageIO.ReadImage(path, ColorMode.Unchanged);
        Assert.Equal(image.shape, back.shape);
        var maxError = (back - image).abs().max().item<float>();
        Assert.True(maxError < 0.5f / levels, $"max error {maxError} for {channels} channels at {bitDepth} bits");
    }

    [Fact]
    public void SixteenBitPngKeepsMoreThanEightBitsOfPrecision()
    {
        using var scope = NewDisposeScope();
        var image = TestTensors.Full(new long[] { 1, 2, 2 }, 1000f / 65535f);
        var path = _temp.Combine("fine.png");
        ImageIO.WriteImage(path, image, 16);
        Assert.Equal(1000f / 65535f, ImageIO.ReadImage(path, ColorMode.Unchanged)[0, 0, 0].item<float>(), 6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void BmpRoundTripsExactly(int channels)
    {
        using var scope = NewDisposeScope();
        var image = Quantized(channels, 7, 10, 255, 3);
        var path = _temp.Combine($"c{channels}.bmp");
        ImageIO.WriteImage(path, image);
        var back = ImageIO.ReadImage(path, ColorMode.Unchanged);
        var expected = channels == 1 ? image : image;
        Assert.True((back[..channels] - expected).abs().max().item<float>() < 0.5f / 255);
    }

    [Fact]
    public void JpegRoundTripsWithinCompressionError()
    {
        using var scope = NewDisposeScope();
        var ramp = linspace(0, 1, 32).reshape(1, 1, 32).expand(3, 32, 32).contiguous();
        var path = _temp.Combine("ramp.jpg");
        ImageIO.WriteImage(path, ramp);
        var back = ImageIO.ReadImage(path);
        Assert.True((back - ramp).abs().mean().item<float>() < 0.02f);
    }

    [Fact]
    public void ColorModesConvertChannels()
    {
        using var scope = NewDisposeScope();
        var gray = Quantized(1, 4, 4, 255, 9);
        var path = _temp.Combine("gray.png");
        ImageIO.WriteImage(path, gray);
        var rgb = ImageIO.ReadImage(path);
        Assert.Equal(new long[] { 3, 4, 4 }, rgb.shape);
        Assert.True((rgb[2] - gray[0]).abs().max().item<float>() < 1e-6);

        var colour = tensor(new float[] { 1, 0, 0 }).reshape(3, 1, 1).expand(3, 2, 2).contiguous();
        var colourPath = _temp.Combine("red.png");
        ImageIO.WriteImage(colourPath, colour);
        Assert.Equal(0.299f, ImageIO.ReadImage(colourPath, ColorMode.Gray)[0, 0, 0].item<float>(), 5);
    }

    [Fact]
    public void MasksAreBinaryAndResizeWithNearest()
    {
        using var scope = NewDisposeScope();
        var mask = zeros(1, 8, 8);
        mask[0, 2..5, 3..6] = 0.5f;
        var path = _temp.Combine("mask.png");
        ImageIO.WriteImage(path, mask);
        var read = ImageIO.ReadMask(path);
        Assert.Equal(9f, read.sum().item<float>());
        var resized = ImageIO.ResizeMask(read, 16);
        Assert.Equal(36f, resized.sum().item<float>());
        Assert.True((resized.eq(zeros_like(resized))).logical_or(resized.eq(ones_like(resized))).all().item<bool>());
    }

    [Fact]
    public void BadFilesGiveClearErrorsNamingTheFile()
    {
        using var scope = NewDisposeScope();
        var good = _temp.Combine("good.png");
        ImageIO.WriteImage(good, Quantized(3, 64, 64, 255, 1));
        var bytes = File.ReadAllBytes(good);

        var truncated = _temp.Combine("truncated.png");
        File.WriteAllBytes(truncated, bytes.Take(bytes.Length / 2).ToArray());
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(truncated));
        Assert.Equal(truncated, error.FilePath);
        Assert.Contains(truncated, error.Message);

        var text = _temp.Combine("notes.png");
        File.WriteAllText(text, "this is not an image");
        Assert.Contains(
            "not a supported image",
            Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(text)).Message
        );

        var empty = _temp.Combine("empty.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        Assert.Contains("empty", Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(empty)).Message);

        Assert.Throws<FileNotFoundException>(() => ImageIO.ReadImage(_temp.Combine("missing.png")));
        Assert.Throws<ArgumentException>(() => ImageIO.WriteImage(_temp.Combine("x.gif"), zeros(3, 4, 4)));
        Assert.Throws<ArgumentException>(() => ImageIO.WriteImage(_temp.Combine("x.jpg"), zeros(3, 4, 4), 16));
        Assert.Throws<ArgumentException>(() => ImageIO.WriteImage(_temp.Combine("x.png"), zeros(2, 4, 4)));
    }

    [Fact]
    public void AFailedWriteLeavesTheExistingFileIntact()
    {
        using var scope = NewDisposeScope();
        var path = _temp.Combine("keep.gif.png");
        ImageIO.WriteImage(path, ones(3, 4, 4));
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => ImageIO.WriteImage(path, zeros(5, 4, 4)));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void AnImageBeyondTheSideLimitIsRefusedFromItsHeaderNamingSizeAndLimit()
    {
        using var scope = NewDisposeScope();
        var path = _temp.Combine("wide.png");
        ImageIO.WriteImage(path, rand(3, 2, 300));
        var error = Assert.Throws<ImageTooLargeException>(() => ImageIO.ReadImage(path, maxSide: 256));
        Assert.Equal((300, 2, 256), (error.Width, error.Height, error.MaxSide));
        Assert.Contains("300×2 pixels", error.Message);
        Assert.Contains("limit of 256", error.Message);
        Assert.Throws<ImageTooLargeException>(() => ImageIO.CheckHeader(path, 299));
        Assert.Equal(new TiledEnsemble.Tiling.Size2D(2, 300), ImageIO.CheckHeader(path, 300));
        Assert.Equal(new long[] { 3, 2, 300 }, ImageIO.ReadImage(path, maxSide: 300).shape);
    }

    /// <summary>A PNG of a signature, an IHDR declaring <paramref name="width"/> × <paramref name="height"/> RGBA
    /// pixels, the start of a zlib stream and IEND: almost no pixel data.</summary>
    private static byte[] HeaderOnlyPng(int width, int height)
    {
        static byte[] Chunk(string type, byte[] data)
        {
            var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            var length = BitConverter.GetBytes(data.Length).Reverse();
            var crc = BitConverter.GetBytes(PngCrc.Compute(typed)).Reverse();
            return length.Concat(typed).Concat(crc).ToArray();
        }

        var ihdr = BitConverter
            .GetBytes(width)
            .Reverse()
            .Concat(BitConverter.GetBytes(height).Reverse())
            .Concat(new byte[] { 8, 6, 0, 0, 0 })
            .ToArray();
        return new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }
            .Concat(Chunk("IHDR", ihdr))
            .Concat(Chunk("IDAT", new byte[] { 0x78, 0x9C, 0x63, 0x00, 0x00 }))
            .Concat(Chunk("IEND", Array.Empty<byte>()))
            .ToArray();
    }

    [Theory]
    [InlineData("second-ihdr", "a second IHDR")]
    [InlineData("palette-after-data", "PLTE after image data")]
    [InlineData("split-data", "IDAT after other chunks")]
    [InlineData("late-header", "the first chunk is tEXt")]
    public void PngsWhoseChunksBreakTheRulesAreRefusedNamingTheRule(string kind, string expected)
    {
        using var scope = NewDisposeScope();
        var good = _temp.Combine("good.png");
        ImageIO.WriteImage(good, rand(3, 4, 5));
        var bytes = File.ReadAllBytes(good).ToList();

        // The signature, IHDR at 8 (25 bytes with length and CRC), IDAT, and IEND in the last 12 bytes.
        static byte[] Chunk(string type, byte[] data)
        {
            var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            return BitConverter
                .GetBytes(data.Length)
                .Reverse()
                .Concat(typed)
                .Concat(BitConverter.GetBytes(PngCrc.Compute(typed)).Reverse())
                .ToArray();
        }

        int afterHeader = 8 + 25;
        var text = Chunk("tEXt", System.Text.Encoding.ASCII.GetBytes("k\0v"));
        switch (kind)
        {
            case "second-ihdr":
                var other = bytes.Skip(8).Take(25).ToArray();
                other[11] = 9; // a different width in the copy (its CRC recomputed below)
                var copy = Chunk("IHDR", other.Skip(8).Take(13).ToArray());
                bytes.InsertRange(afterHeader, copy);
                break;
            case "palette-after-data":
                bytes.InsertRange(bytes.Count - 12, Chunk("PLTE", new byte[] { 0, 0, 0 }));
                break;
            case "split-data":
                bytes.InsertRange(bytes.Count - 12, text.Concat(Chunk("IDAT", Array.Empty<byte>())));
                break;
            default:
                bytes.InsertRange(8, text);
                break;
        }

        var path = _temp.Combine($"{kind}.png");
        File.WriteAllBytes(path, bytes.ToArray());
        var error = Assert.ThrowsAny<ImageDecodeException>(() => ImageIO.ReadImage(path));
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);
        Assert.Contains($"{kind}.png", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnImageBeyondThePixelBudgetIsRefusedFromItsHeaderBeforeDecoding()
    {
        // 9000² is within the side limit (16384) but beyond the default budget of 8192² pixels. The file holds no
        // pixel data: refused by the budget, nothing is decoded (with the budget raised, decoding finds it truncated).
        var path = _temp.Combine("bomb.png");
        File.WriteAllBytes(path, HeaderOnlyPng(9000, 9000));
        var error = Assert.Throws<ImageTooLargeException>(() => ImageIO.ReadImage(path));
        Assert.Equal((9000, 9000, ImageIO.DefaultMaxPixels), (error.Width, error.Height, error.MaxPixels));
        Assert.Contains("81000000 pixels", error.Message, StringComparison.Ordinal);
        Assert.Contains("max_image_pixels", error.Message, StringComparison.Ordinal);
        Assert.Throws<ImageTooLargeException>(() => ImageIO.CheckHeader(path));
        Assert.Throws<ImageTooLargeException>(() => ImageIO.ReadMask(path));

        var raised = Assert.ThrowsAny<ImageDecodeException>(() => ImageIO.ReadImage(path, maxPixels: 90_000_000));
        Assert.IsNotType<ImageTooLargeException>(raised);
        Assert.Equal(new TiledEnsemble.Tiling.Size2D(9000, 9000), ImageIO.CheckHeader(path, maxPixels: 81_000_000));
    }

    [Fact]
    public void SymbolicLinksThatLoopOrDangleAreNamedAsSuch()
    {
        var a = _temp.Combine("a.png");
        var b = _temp.Combine("b.png");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);
        var loop = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(a));
        Assert.Contains("symbolic link that cannot be followed", loop.Message);

        var dangling = _temp.Combine("dangling.png");
        File.CreateSymbolicLink(dangling, _temp.Combine("gone.png"));
        Assert.Contains(
            "which does not exist",
            Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(dangling)).Message
        );

        using var scope = NewDisposeScope();
        var real = _temp.Combine("real.png");
        ImageIO.WriteImage(real, rand(3, 4, 4));
        var link = _temp.Combine("link.png");
        File.CreateSymbolicLink(link, real);
        Assert.Equal(new long[] { 3, 4, 4 }, ImageIO.ReadImage(link).shape);
    }
}
