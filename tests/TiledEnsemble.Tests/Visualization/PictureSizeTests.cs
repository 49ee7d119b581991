using System.Linq;
using TiledEnsemble.Visualization;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests.Visualization;

public sealed class PictureSizeTests
{
    [Theory]
    [InlineData(2048, 100, 1)]
    [InlineData(2049, 100, 2)]
    [InlineData(100, 8192, 4)]
    [InlineData(16384, 16384, 8)]
    public void TheFactorIsTheSmallestWholeOneThatFitsTheLargerSide(long height, long width, int factor) =>
        Assert.Equal(factor, PictureSize.Factor(height, width));

    [Fact]
    public void AOnePixelDefectSurvivesAsItsBlocksPeakWhileTheImageIsAveraged()
    {
        using var scope = NewDisposeScope();
        var map = zeros(1, 4100, 10);
        map[0, 4099, 7] = tensor(0.75f);
        var reduced = PictureSize.Peaks(map, PictureSize.Factor(4100, 10));
        Assert.Equal(new long[] { 1, 1367, 4 }, reduced.shape);
        Assert.Equal(0.75f, reduced.max().item<float>());
        Assert.Equal(0.75f, reduced[0, 1366, 2].item<float>());

        var image = tensor(new[] { 0f, 1f, 2f, 3f, 4f, 5f }, new long[] { 1, 2, 3 });
        var averaged = PictureSize.Image(image, 2);
        Assert.Equal(new[] { 2f, 3.5f }, averaged.data<float>().ToArray());
    }
}
