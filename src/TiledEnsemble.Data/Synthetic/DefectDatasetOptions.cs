using System;
using System.Collections.Generic;

namespace TiledEnsemble.Data.Synthetic;

/// <summary>What <see cref="DefectDatasetGenerator"/> writes.</summary>
public sealed record DefectDatasetOptions
{
    /// <summary>Category folder name (MVTec layout: root/category/...).</summary>
    public string Category { get; init; } = "fabric";

    /// <summary>Surface texture.</summary>
    public TextureKind Texture { get; init; } = TextureKind.WovenFabric;

    /// <summary>Image side in pixels (square images).</summary>
    public int ImageSize { get; init; } = 256;

    /// <summary>Normal training images.</summary>
    public int TrainCount { get; init; } = 20;

    /// <summary>Normal test images.</summary>
    public int TestGoodCount { get; init; } = 5;

    /// <summary>Test images per defect kind.</summary>
    public int TestPerDefect { get; init; } = 3;

    /// <summary>Defect kinds to paint.</summary>
    public IReadOnlyList<DefectKind> DefectKinds { get; init; } = Enum.GetValues<DefectKind>();

    /// <summary>Defect area as a fraction of the image area (0.002 = 0.2 %); small defects are the point of
    /// tiling.</summary>
    public double DefectAreaFraction { get; init; } = 0.003;

    /// <summary>How far a defect departs from the clean image, in (0, 1]: 1 paints it at full contrast, 0.25 blends a
    /// quarter of it in (a faint defect).</summary>
    public double DefectStrength { get; init; } = 1;

    /// <summary>Seed; the same seed writes the same files.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Category) || Category.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"Category must be a valid folder name; got '{Category}'.", nameof(Category));
        }

        if (ImageSize < 16 || ImageSize > 8192)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ImageSize),
                ImageSize,
                "ImageSize must be between 16 and 8192 pixels."
            );
        }

        if (!(DefectStrength > 0 && DefectStrength <= 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(DefectStrength),
                DefectStrength,
                "DefectStrength must lie in (0, 1]."
            );
        }

        if (TrainCount < 1 || TestGoodCount < 0 || TestPerDefect < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(TrainCount),
                $"Need at least 1 training image and non-negative test counts; got train {TrainCount}, test good "
                    + $"{TestGoodCount}, per defect {TestPerDefect}."
            );
        }

        if (!(DefectAreaFraction > 0 && DefectAreaFraction < 0.25))
        {
            throw new ArgumentOutOfRangeException(
                nameof(DefectAreaFraction),
                DefectAreaFraction,
                "DefectAreaFraction must be in (0, 0.25)."
            );
        }
    }
}
