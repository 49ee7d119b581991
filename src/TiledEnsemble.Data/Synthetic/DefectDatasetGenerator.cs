using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using TiledEnsemble.Data.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Synthetic;

/// <summary>
/// Writes an MVTec-AD-layout dataset of procedural textures with small painted defects and exact ground-truth masks:
/// <c>root/category/train/good</c>, <c>test/good</c>, <c>test/&lt;defect&gt;</c>,
/// <c>ground_truth/&lt;defect&gt;/&lt;name&gt;_mask.png</c>.
/// Deterministic for a seed. Used by the demo, the integration tests and the benchmarks.
/// </summary>
public static class DefectDatasetGenerator
{
    /// <summary>Writes the dataset and returns the category folder.</summary>
    public static string Write(string root, DefectDatasetOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var category = Path.Combine(root, options.Category);
        for (int i = 0; i < options.TrainCount; i++)
        {
            WritePng(Path.Combine(category, "train", "good", $"{i:D3}.png"), Normal(options, "train", i));
        }

        for (int i = 0; i < options.TestGoodCount; i++)
        {
            WritePng(Path.Combine(category, "test", "good", $"{i:D3}.png"), Normal(options, "test", i));
        }

        foreach (var kind in options.DefectKinds)
        {
            var name = FolderName(kind);
            for (int i = 0; i < options.TestPerDefect; i++)
            {
                var (_, image, mask) = Defective(options, kind, i);
                WritePng(Path.Combine(category, "test", name, $"{i:D3}.png"), image);
                WriteMask(Path.Combine(category, "ground_truth", name, $"{i:D3}_mask.png"), mask, options.ImageSize);
            }
        }

        return category;
    }

    /// <summary>The folder name of a defect kind (snake_case, as MVTec names defects).</summary>
    public static string FolderName(DefectKind kind)
    {
        var name = kind.ToString();
        var builder = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }

    /// <summary>
    /// Renders one defective test sample in memory: its clean counterpart, the defective image ([3, H, W], values as
    /// stored in 8 bits) and the mask ([1, H, W], 1 where the defect changed a stored value).
    /// </summary>
    public static (Tensor Clean, Tensor Defective, Tensor Mask) RenderDefective(
        DefectDatasetOptions options,
        DefectKind kind,
        int index
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (clean, image, mask) = Defective(options, kind, index);
        using var scope = NewDisposeScope();
        var maskTensor = tensor(
            Array.ConvertAll(mask, m => m ? 1f : 0f),
            new long[] { 1, options.ImageSize, options.ImageSize }
        );
        return (
            clean.ToTensor().MoveToOuterDisposeScope(),
            image.ToTensor().MoveToOuterDisposeScope(),
            maskTensor.MoveToOuterDisposeScope()
        );
    }

    /// <summary>Paints a defect of <paramref name="kind"/> onto an existing image [3, H, W] (for synthetic
    /// anomalies).</summary>
    public static (Tensor Image, Tensor Mask) PaintOnto(Tensor image, DefectKind kind, double areaFraction, int seed)
    {
        TensorGuard.Rank(image, 3, nameof(image), "[3, H, W]");
        int h = (int)image.shape[1],
            w = (int)image.shape[2];
        var source = new RgbImage(h, w);
        using (var scope = NewDisposeScope())
        {
            var pixels = image
                .to_type(ScalarType.Float32)
                .cpu()
                .clamp(Scalars.Zero, Scalars.One)
                .permute(1, 2, 0)
                .contiguous()
                .data<float>()
                .ToArray();
            Array.Copy(pixels, source.Pixels, pixels.Length);
        }

        var (painted, mask) = DefectPainter.Paint(source, kind, areaFraction, new Random(seed));
        using var outer = NewDisposeScope();
        var maskTensor = tensor(Array.ConvertAll(mask, m => m ? 1f : 0f), new long[] { 1, h, w });
        return (painted.ToTensor().MoveToOuterDisposeScope(), maskTensor.MoveToOuterDisposeScope());
    }

    private static RgbImage Normal(DefectDatasetOptions options, string split, int index) =>
        TexturePainter.Paint(
            options.Texture,
            options.ImageSize,
            options.ImageSize,
            new Random(Seed(options.Seed, split, index))
        );

    private static (RgbImage Clean, RgbImage Image, bool[] Mask) Defective(
        DefectDatasetOptions options,
        DefectKind kind,
        int index
    )
    {
        var clean = TexturePainter.Paint(
            options.Texture,
            options.ImageSize,
            options.ImageSize,
            new Random(Seed(options.Seed, "defect-" + kind, index))
        );
        var (image, mask) = DefectPainter.Paint(
            clean,
            kind,
            options.DefectAreaFraction,
            new Random(Seed(options.Seed, "paint-" + kind, index)),
            options.DefectStrength
        );
        return (clean, image, mask);
    }

    private static int Seed(int seed, string stream, int index)
    {
        // A stable hash (string.GetHashCode is randomised per process).
        unchecked
        {
            int hash = (int)2166136261;
            foreach (var c in stream)
            {
                hash = (hash ^ c) * 16777619;
            }

            return (hash ^ seed) * 16777619 ^ index;
        }
    }

    private static void WritePng(string path, RgbImage image)
    {
        using var scope = NewDisposeScope();
        ImageIO.WriteImage(path, image.ToTensor());
    }

    private static void WriteMask(string path, bool[] mask, int size)
    {
        using var scope = NewDisposeScope();
        ImageIO.WriteImage(path, tensor(Array.ConvertAll(mask, m => m ? 1f : 0f), new long[] { 1, size, size }));
    }
}
