using System;
using System.IO;
using System.Linq;
using BitMiracle.LibTiff.Classic;
using TiledEnsemble.Data.Imaging;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Tests.Imaging;

/// <summary>
/// TIFF as line cameras write it, written here with LibTiff.NET and read back through <see cref="ImageIO"/>: every
/// sample equals the written integer over 255 or 65535, for gray and RGB, with and without alpha, in strips and tiles,
/// interleaved and planar, compressed or not; sizes come from the tags before decoding; what is not supported is
/// refused naming the file and the reason.
/// </summary>
public sealed class TiffReadingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The written sample of channel <paramref name="c"/> at (<paramref name="y"/>, <paramref name="x"/>):
    /// every value distinct enough that a swapped channel, row or tile shows.</summary>
    private static int Sample(int bits, int c, int y, int x) =>
        bits == 8 ? ((x * 7) + (y * 13) + (c * 61)) % 256 : ((x * 977) + (y * 4099) + (c * 15013)) % 65536;

    private static void Write(
        string path,
        int width,
        int height,
        int bits,
        int samplesPerPixel,
        Photometric photometric,
        bool tiled,
        bool planar,
        Compression compression
    )
    {
        using var tiff = Tiff.Open(path, "w");
        tiff.SetField(TiffTag.IMAGEWIDTH, width);
        tiff.SetField(TiffTag.IMAGELENGTH, height);
        tiff.SetField(TiffTag.BITSPERSAMPLE, bits);
        tiff.SetField(TiffTag.SAMPLESPERPIXEL, samplesPerPixel);
        tiff.SetField(TiffTag.PHOTOMETRIC, photometric);
        tiff.SetField(TiffTag.PLANARCONFIG, planar ? PlanarConfig.SEPARATE : PlanarConfig.CONTIG);
        tiff.SetField(TiffTag.COMPRESSION, compression);
        if (photometric == Photometric.PALETTE)
        {
            var ramp = Enumerable.Range(0, 1 << bits).Select(v => (ushort)(v * 257)).ToArray();
            tiff.SetField(TiffTag.COLORMAP, ramp, ramp, ramp);
        }

        if (samplesPerPixel is 2 or 4)
        {
            tiff.SetField(TiffTag.EXTRASAMPLES, 1, new short[] { (short)ExtraSample.UNASSALPHA });
        }

        int bytes = bits / 8;
        int perPixel = planar ? 1 : samplesPerPixel;
        void Put(byte[] buffer, int index, int value)
        {
            if (bytes == 1)
            {
                buffer[index] = (byte)value;
            }
            else
            {
                BitConverter.GetBytes((ushort)value).CopyTo(buffer, index * 2);
            }
        }

        for (int plane = 0; plane < (planar ? samplesPerPixel : 1); plane++)
        {
            if (tiled)
            {
                const int Tile = 16;
                tiff.SetField(TiffTag.TILEWIDTH, Tile);
                tiff.SetField(TiffTag.TILELENGTH, Tile);
                var buffer = new byte[Tile * Tile * perPixel * bytes];
                for (int ty = 0; ty < height; ty += Tile)
                {
                    for (int tx = 0; tx < width; tx += Tile)
                    {
                        Array.Clear(buffer);
                        for (int y = 0; y < Tile && ty + y < height; y++)
                        {
                            for (int x = 0; x < Tile && tx + x < width; x++)
                            {
                                for (int k = 0; k < perPixel; k++)
                                {
                                    int c = planar ? plane : k;
                                    Put(buffer, (((y * Tile) + x) * perPixel) + k, Sample(bits, c, ty + y, tx + x));
                                }
                            }
                        }

                        Assert.True(tiff.WriteTile(buffer, tx, ty, 0, (short)plane) > 0);
                    }
                }
            }
            else
            {
                tiff.SetField(TiffTag.ROWSPERSTRIP, 5);
                var line = new byte[width * perPixel * bytes];
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++)
                    {
                        for (int k = 0; k < perPixel; k++)
                        {
                            Put(line, (x * perPixel) + k, Sample(bits, planar ? plane : k, y, x));
                        }
                    }

                    Assert.True(tiff.WriteScanline(line, y, (short)plane));
                }
            }
        }
    }

    [Theory]
    [InlineData(8, 1, false, false, Compression.NONE)]
    [InlineData(16, 1, false, false, Compression.LZW)]
    [InlineData(8, 3, false, false, Compression.DEFLATE)]
    [InlineData(16, 3, true, false, Compression.NONE)]
    [InlineData(8, 3, true, true, Compression.LZW)]
    [InlineData(16, 3, false, true, Compression.DEFLATE)]
    [InlineData(8, 4, false, false, Compression.NONE)]
    [InlineData(16, 2, true, false, Compression.PACKBITS)]
    public void EverySampleIsTheWrittenIntegerOverItsMaximum(
        int bits,
        int samplesPerPixel,
        bool tiled,
        bool planar,
        Compression compression
    )
    {
        int width = 37,
            height = 21;
        var path = _temp.Combine($"image-{bits}-{samplesPerPixel}-{tiled}-{planar}.tif");
        var photometric = samplesPerPixel <= 2 ? Photometric.MINISBLACK : Photometric.RGB;
        Write(path, width, height, bits, samplesPerPixel, photometric, tiled, planar, compression);

        Assert.Equal(new Tiling.Size2D(height, width), ImageIO.ReadSize(path));
        using var scope = NewDisposeScope();
        using var image = ImageIO.ReadImage(path, ColorMode.Unchanged);
        int gray = samplesPerPixel <= 2 ? 1 : 3;
        bool alpha = samplesPerPixel is 2 or 4;
        Assert.Equal(
            new long[]
            {
                gray == 1 ? 1
                : alpha ? 4
                : 3,
                height,
                width,
            },
            image.shape
        );
        var values = image.data<float>().ToArray();
        double max = bits == 8 ? 255 : 65535;
        for (int c = 0; c < image.shape[0]; c++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    float expected = (float)(Sample(bits, c, y, x) / max);
                    Assert.Equal(expected, values[(((c * height) + y) * width) + x]);
                }
            }
        }

        // RGB mode repeats a gray channel three times.
        using var rgb = ImageIO.ReadImage(path, ColorMode.Rgb);
        Assert.Equal(3, rgb.shape[0]);
        Assert.Equal(image[0].data<float>().ToArray(), rgb[gray == 1 ? 2 : 0].data<float>().ToArray());
    }

    [Fact]
    public void WhiteIsZeroGrayIsInverted()
    {
        var path = _temp.Combine("white-is-zero.tiff");
        Write(path, 9, 4, 8, 1, Photometric.MINISWHITE, tiled: false, planar: false, Compression.NONE);
        using var scope = NewDisposeScope();
        using var image = ImageIO.ReadImage(path, ColorMode.Gray);
        Assert.Equal(1 - (Sample(8, 0, 3, 5) / 255f), image[0, 3, 5].item<float>(), 6);
    }

    [Fact]
    public void ASideBeyondTheLimitIsRefusedFromTheTagsBeforeDecoding()
    {
        var path = _temp.Combine("wide.tif");
        Write(path, 300, 2, 8, 1, Photometric.MINISBLACK, tiled: false, planar: false, Compression.NONE);
        var error = Assert.Throws<ImageTooLargeException>(() => ImageIO.ReadImage(path, maxSide: 256));
        Assert.Contains("300", error.Message, StringComparison.Ordinal);
        Assert.Throws<ImageTooLargeException>(() => ImageIO.CheckHeader(path, maxSide: 256));
    }

    [Fact]
    public void UnsupportedAndDamagedFilesAreRefusedNamingTheFileAndTheReason()
    {
        var palette = _temp.Combine("palette.tif");
        Write(palette, 8, 8, 8, 1, Photometric.PALETTE, tiled: false, planar: false, Compression.NONE);
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(palette));
        Assert.Contains("palette.tif", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains("PALETTE", StringComparison.Ordinal), error.Message);

        var floats = _temp.Combine("float.tif");
        using (var tiff = Tiff.Open(floats, "w"))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 4);
            tiff.SetField(TiffTag.IMAGELENGTH, 1);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 32);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tiff.SetField(TiffTag.SAMPLEFORMAT, SampleFormat.IEEEFP);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tiff.WriteScanline(new byte[16], 0);
        }

        Assert.Contains(
            "32-bit",
            Assert.Throws<ImageDecodeException>(() => ImageIO.ReadImage(floats)).Message,
            StringComparison.Ordinal
        );

        // Cut in the middle of its compressed strips: an error naming the file, never a crash or a partial image.
        var whole = _temp.Combine("whole.tif");
        Write(whole, 64, 64, 16, 3, Photometric.RGB, tiled: false, planar: false, Compression.DEFLATE);
        var bytes = File.ReadAllBytes(whole);
        var cut = _temp.Combine("cut.tif");
        File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var truncated = Assert.ThrowsAny<ImageDecodeException>(() => ImageIO.ReadImage(cut));
        Assert.Contains("cut.tif", truncated.Message, StringComparison.Ordinal);

        var header = _temp.Combine("header-only.tif");
        File.WriteAllBytes(header, new byte[] { (byte)'I', (byte)'I', 42, 0, 200, 0, 0, 0 });
        Assert.Contains(
            "header-only.tif",
            Assert.ThrowsAny<ImageDecodeException>(() => ImageIO.ReadImage(header)).Message,
            StringComparison.Ordinal
        );
    }
}
