using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Data.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Tests;

/// <summary>A small generated texture set: normal training images, normal and defective test images.</summary>
internal static class TextureSet
{
    public static Tensor Normals(int count, int size, int offset = 0)
    {
        var options = new DefectDatasetOptions
        {
            ImageSize = size,
            Texture = TextureKind.WovenFabric,
            Seed = 7,
        };
        using var scope = NewDisposeScope();
        var images = Enumerable
            .Range(offset, count)
            .Select(i => DefectDatasetGenerator.RenderDefective(options, DefectKind.Spot, i).Clean)
            .ToArray();
        return stack(images).MoveToOuterDisposeScope();
    }

    public static Tensor Defective(int count, int size)
    {
        var (images, masks) = DefectiveWithMasks(count, size);
        masks.Dispose();
        return images;
    }

    /// <summary>Defective images with their masks [N, 1, H, W].</summary>
    public static (Tensor Images, Tensor Masks) DefectiveWithMasks(int count, int size)
    {
        var options = new DefectDatasetOptions
        {
            ImageSize = size,
            Texture = TextureKind.WovenFabric,
            Seed = 7,
            DefectAreaFraction = 0.02,
        };
        using var scope = NewDisposeScope();
        var kinds = new[] { DefectKind.Spot, DefectKind.Cut };
        var rendered = Enumerable
            .Range(0, count)
            .Select(i => DefectDatasetGenerator.RenderDefective(options, kinds[i % kinds.Length], 100 + i))
            .ToArray();
        var images = stack(rendered.Select(r => r.Defective).ToArray());
        var masks = stack(rendered.Select(r => r.Mask.dim() == 2 ? r.Mask.unsqueeze(0) : r.Mask).ToArray());
        return (images.MoveToOuterDisposeScope(), masks.MoveToOuterDisposeScope());
    }

    public static IEnumerable<Tensor> Batches(Tensor images, int batchSize)
    {
        for (long i = 0; i < images.shape[0]; i += batchSize)
        {
            yield return images.narrow(0, i, System.Math.Min(batchSize, images.shape[0] - i));
        }
    }
}
