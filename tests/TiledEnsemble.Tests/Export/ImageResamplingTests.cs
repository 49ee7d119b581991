using System;
using System.Linq;
using TiledEnsemble.Deployment;
using Xunit;

namespace TiledEnsemble.Tests.Export;

public sealed class ImageResamplingTests
{
    [Fact]
    public void AnImageAtTheImageSizeIsClampedToTheUnitIntervalIntoItsPlaceInTheBatch()
    {
        // 3 × 3 × 7 = 63 values: several vectors of any width and a tail, from −1.25 to 1.85 in steps of 0.05.
        var image = Enumerable.Range(0, 63).Select(i => -1.25f + (0.05f * i)).ToArray();
        var batch = Enumerable.Repeat(9f, 70).ToArray();

        ImageResampling.ResizeImage(image, 3, 3, 7, 3, 7, batch.AsSpan(5, 63));

        Assert.All(batch[..5], v => Assert.Equal(9f, v));
        Assert.All(batch[68..], v => Assert.Equal(9f, v));
        for (int i = 0; i < 63; i++)
        {
            float expected =
                image[i] < 0 ? 0
                : image[i] > 1 ? 1
                : image[i];
            Assert.Equal(expected, batch[5 + i]);
        }
    }

    [Fact]
    public void AMapAndMaskAtTheImageSizeAreReturnedAsGiven()
    {
        var map = new float[] { 0.5f, 2, 3, 4 };
        var mask = new[] { true, false, false, true };

        Assert.Same(map, ImageResampling.RestoreMap(map, 2, 2, 2, 2));
        Assert.Same(mask, ImageResampling.RestoreMask(mask, 2, 2, 2, 2));

        // Widening 2 → 3 (align_corners false): source columns −1/6 (clamped to 0), 1/2 and 7/6 (the last column).
        Assert.Equal(new float[] { 0.5f, 1.25f, 2, 3, 3.5f, 4 }, ImageResampling.RestoreMap(map, 2, 2, 2, 3));
    }
}
