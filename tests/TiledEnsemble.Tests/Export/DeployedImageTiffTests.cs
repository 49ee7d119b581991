using System;
using System.IO;
using System.Linq;
using BitMiracle.LibTiff.Classic;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Deployment;
using Xunit;

namespace TiledEnsemble.Tests.Export;

/// <summary>The deployment package reads TIFF as the library does: the same RGB values, the same refusals.</summary>
public sealed class DeployedImageTiffTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("deployed-tiff-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void ASixteenBitGrayTiffGivesTheLibrarysValuesAndAWideOneIsRefused()
    {
        var path = Path.Combine(_work, "line-camera.tif");
        const int Width = 40,
            Height = 12;
        using (var tiff = Tiff.Open(path, "w"))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, Width);
            tiff.SetField(TiffTag.IMAGELENGTH, Height);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 16);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tiff.SetField(TiffTag.COMPRESSION, Compression.LZW);
            for (int y = 0; y < Height; y++)
            {
                var line = Enumerable
                    .Range(0, Width)
                    .SelectMany(x => BitConverter.GetBytes((ushort)((x * 1601) + (y * 37))))
                    .ToArray();
                Assert.True(tiff.WriteScanline(line, y));
            }
        }

        var deployed = DeployedImage.FromFile(path);
        using var expected = ImageIO.ReadImage(path);
        Assert.Equal((Height, Width), (deployed.Height, deployed.Width));
        Assert.Equal(expected.data<float>().ToArray(), deployed.Pixels);
        Assert.Equal(1601f / 65535f, deployed.Pixels[1]);

        var error = Assert.Throws<DeploymentException>(() => DeployedImage.FromFile(path, maxSide: 32));
        Assert.Contains("line-camera.tif", error.Message, StringComparison.Ordinal);
        var budget = Assert.Throws<DeploymentException>(() => DeployedImage.FromFile(path, maxPixels: 479));
        Assert.Contains("480 pixels, beyond the budget of 479", budget.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOrientationTagTurnsTheDeployedImageAsItTurnsTheLibrarys()
    {
        var path = Path.Combine(_work, "turned.tif");
        using (var tiff = Tiff.Open(path, "w"))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 5);
            tiff.SetField(TiffTag.IMAGELENGTH, 2);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 8);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 3);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.RGB);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.ORIENTATION, Orientation.LEFTBOT);
            for (int y = 0; y < 2; y++)
            {
                Assert.True(
                    tiff.WriteScanline(Enumerable.Range(0, 15).Select(v => (byte)((y * 100) + v)).ToArray(), y)
                );
            }
        }

        var deployed = DeployedImage.FromFile(path);
        using var expected = ImageIO.ReadImage(path);
        Assert.Equal((5, 2), (deployed.Height, deployed.Width));
        Assert.Equal(expected.shape, new long[] { 3, 5, 2 });
        Assert.Equal(expected.data<float>().ToArray(), deployed.Pixels);
    }
}
