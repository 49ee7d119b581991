using System;
using System.IO;
using System.Linq;
using BitMiracle.LibTiff.Classic;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Tiling;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Tests.Imaging;

/// <summary>
/// EXIF orientation is applied on decode, as viewers apply it: a JPEG stored 32 high and 48 wide with quadrants red,
/// green (top) and blue, white (bottom), tagged 6, is displayed 48 high and 32 wide with blue at the top left and red
/// at the top right; every code gives the stored pixels moved as EXIF defines, and the header size is the displayed
/// one.
/// </summary>
public sealed class OrientationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string StoredJpeg()
    {
        var path = _temp.Combine("stored.jpg");
        if (!File.Exists(path))
        {
            var pixels = new float[3 * 32 * 48];
            for (int y = 0; y < 32; y++)
            {
                for (int x = 0; x < 48; x++)
                {
                    var (r, g, b) = (y < 16, x < 24) switch
                    {
                        (true, true) => (1f, 0f, 0f),
                        (true, false) => (0f, 1f, 0f),
                        (false, true) => (0f, 0f, 1f),
                        _ => (1f, 1f, 1f),
                    };
                    pixels[(y * 48) + x] = r;
                    pixels[(32 * 48) + (y * 48) + x] = g;
                    pixels[(2 * 32 * 48) + (y * 48) + x] = b;
                }
            }

            using var image = tensor(pixels, new long[] { 3, 32, 48 });
            ImageIO.WriteImage(path, image);
        }

        return path;
    }

    /// <summary>The JPEG with an EXIF block (APP1) holding only the orientation tag, inserted after the SOI
    /// marker.</summary>
    private string Tagged(int orientation)
    {
        var jpeg = File.ReadAllBytes(StoredJpeg());
        byte[] exif =
        {
            0xFF,
            0xE1,
            0x00,
            0x22, // APP1, length 34
            (byte)'E',
            (byte)'x',
            (byte)'i',
            (byte)'f',
            0,
            0,
            (byte)'I',
            (byte)'I',
            42,
            0,
            8,
            0,
            0,
            0, // little-endian TIFF header, IFD at 8
            1,
            0, // one entry
            0x12,
            0x01,
            3,
            0,
            1,
            0,
            0,
            0,
            (byte)orientation,
            0,
            0,
            0, // Orientation, SHORT, 1 value
            0,
            0,
            0,
            0, // no next IFD
        };
        var path = _temp.Combine($"orientation-{orientation}.jpg");
        File.WriteAllBytes(path, jpeg.Take(2).Concat(exif).Concat(jpeg.Skip(2)).ToArray());
        return path;
    }

    private static float[] Rgb(Tensor image, int y, int x)
    {
        using var scope = NewDisposeScope();
        return image[.., y, x].data<float>().Select(v => MathF.Round(v)).ToArray();
    }

    [Fact]
    public void OrientationSixTurnsTheImageAQuarterClockwiseAndEightCounterClockwise()
    {
        using var six = ImageIO.ReadImage(Tagged(6));
        Assert.Equal(new long[] { 3, 48, 32 }, six.shape);
        Assert.Equal(new Size2D(48, 32), ImageIO.ReadSize(Tagged(6)));
        Assert.Equal(new[] { 0f, 0f, 1f }, Rgb(six, 4, 4)); // blue, top left
        Assert.Equal(new[] { 1f, 0f, 0f }, Rgb(six, 4, 28)); // red, top right
        Assert.Equal(new[] { 1f, 1f, 1f }, Rgb(six, 44, 4)); // white, bottom left

        using var eight = ImageIO.ReadImage(Tagged(8));
        Assert.Equal(new[] { 0f, 1f, 0f }, Rgb(eight, 4, 4)); // green, top left
        Assert.Equal(new[] { 1f, 0f, 0f }, Rgb(eight, 44, 4)); // red, bottom left

        using var three = ImageIO.ReadImage(Tagged(3));
        Assert.Equal(new long[] { 3, 32, 48 }, three.shape);
        Assert.Equal(new[] { 1f, 1f, 1f }, Rgb(three, 4, 4)); // white, top left
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void EveryCodeMovesTheStoredPixelsAsExifDefines(int orientation)
    {
        using var scope = NewDisposeScope();
        var stored = ImageIO.ReadImage(StoredJpeg());
        var shown = ImageIO.ReadImage(Tagged(orientation));
        var planes = stored.data<float>().ToArray();
        var expected = ImageOrientation.ApplyPlanar(planes, 3, 32, 48, orientation);
        Assert.Equal(expected, shown.data<float>().ToArray());
        bool swapped = orientation >= 5;
        Assert.Equal(swapped ? new long[] { 3, 48, 32 } : new long[] { 3, 32, 48 }, shown.shape);
        using var mask = ImageIO.ReadMask(Tagged(orientation));
        Assert.Equal(shown.shape[1..], mask.shape[1..]);
    }

    [Fact]
    public void TheTiffOrientationTagIsAppliedToo()
    {
        var path = _temp.Combine("turned.tif");
        using (var tiff = Tiff.Open(path, "w"))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 3);
            tiff.SetField(TiffTag.IMAGELENGTH, 2);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 8);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tiff.SetField(TiffTag.ORIENTATION, Orientation.RIGHTTOP);
            tiff.WriteScanline(new byte[] { 10, 20, 30 }, 0);
            tiff.WriteScanline(new byte[] { 40, 50, 60 }, 1);
        }

        // Stored [[10 20 30] [40 50 60]], turned a quarter clockwise: [[40 10] [50 20] [60 30]].
        Assert.Equal(new Size2D(3, 2), ImageIO.ReadSize(path));
        using var image = ImageIO.ReadImage(path, ColorMode.Gray);
        var expected = new[] { 40, 10, 50, 20, 60, 30 }.Select(v => v / 255f).ToArray();
        Assert.Equal(expected, image.data<float>().ToArray());
    }
}
