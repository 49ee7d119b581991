using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// An MVTec-layout data set made at benchmark time from real surface photographs (brick, grass, gravel: CC0 photographs
/// shipped in Debian's python3-skimage package, fetched by <c>benchmarks/data/fetch-surface-photos.sh</c>), with small
/// defects painted on. Deterministic for a seed; nothing is committed.
/// </summary>
/// <remarks>
/// Training crops come from the left half of the 512² photograph and test crops from the right half, so no test pixel
/// was seen in training; each crop is one of the eight flips/rotations, and is resized to the image size when the crop
/// is smaller (at image sizes above 256).
/// </remarks>
internal static class SurfacePhotoDataset
{
    public static readonly string[] Photos = { "brick", "grass", "gravel" };

    /// <summary>The folder holding the photographs, fetched into a cache folder if needed; null with the reason
    /// printed.</summary>
    public static string? Locate()
    {
        var folder = Environment.GetEnvironmentVariable("TILEDENSEMBLE_SURFACE_PHOTOS")
            ?? Path.Combine(
                Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                ".cache",
                "tiledensemble",
                "surface-photos"
            );
        if (Photos.All(p => File.Exists(Path.Combine(folder, p + ".png"))))
        {
            return folder;
        }

        var script = Path.Combine(AppContext.BaseDirectory, "fetch-surface-photos.sh");
        using var process = Process.Start(
            new ProcessStartInfo("bash", new[] { script, folder }) { RedirectStandardError = true }
        )!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"Real-photo data set unavailable: {error.Trim()}");
            return null;
        }

        return folder;
    }

    /// <summary>Writes category <paramref name="photo"/> under <paramref name="root"/>.</summary>
    public static void Write(
        string root,
        string folder,
        string photo,
        int imageSize,
        int trainCount,
        int testGood,
        int testPerDefect,
        double defectArea,
        int seed
    )
    {
        using var scope = NewDisposeScope();
        var source = ImageIO.ReadImage(Path.Combine(folder, photo + ".png"));
        int side = (int)Math.Min(source.shape[1], source.shape[2]);
        int half = side / 2,
            crop = Math.Min(half, imageSize);
        var random = new Random((seed * 7919) + Array.IndexOf(Photos, photo));
        Tensor Crop(bool test)
        {
            using var inner = NewDisposeScope();
            int y = random.Next(0, side - crop + 1),
                x = random.Next(0, half - crop + 1) + (test ? half : 0);
            var tile = source.narrow(1, y, crop).narrow(2, x, crop);
            int turn = random.Next(8);
            tile = tile.rot90(turn % 4, (1, 2));
            if (turn >= 4)
            {
                tile = tile.flip(2);
            }

            return (crop == imageSize ? tile.contiguous() : ImageIO.Resize(tile, imageSize)).MoveToOuterDisposeScope();
        }

        var category = Path.Combine(root, photo);
        for (int i = 0; i < trainCount; i++)
        {
            ImageIO.WriteImage(Path.Combine(category, "train", "good", $"{i:D3}.png"), Crop(test: false));
        }

        for (int i = 0; i < testGood; i++)
        {
            ImageIO.WriteImage(Path.Combine(category, "test", "good", $"{i:D3}.png"), Crop(test: true));
        }

        foreach (var kind in new[] { DefectKind.Scratch, DefectKind.Spot, DefectKind.Cut })
        {
            var name = DefectDatasetGenerator.FolderName(kind);
            for (int i = 0; i < testPerDefect; i++)
            {
                var (image, mask) = DefectDatasetGenerator.PaintOnto(Crop(test: true), kind, defectArea, random.Next());
                ImageIO.WriteImage(Path.Combine(category, "test", name, $"{i:D3}.png"), image);
                ImageIO.WriteImage(Path.Combine(category, "ground_truth", name, $"{i:D3}_mask.png"), mask);
            }
        }
    }
}
