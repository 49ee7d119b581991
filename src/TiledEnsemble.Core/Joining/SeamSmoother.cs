using System;
using TiledEnsemble.Export;
using TiledEnsemble.Imaging;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>
/// Hides tile seams in a joined anomaly map: blurs the map with a Gaussian and keeps the blurred value only in bands
/// around the internal tile borders. Every other pixel is returned bit-identical.
/// </summary>
/// <remarks>
/// A band has half-width <c>floor(tile · width)</c> along each axis and covers <c>[c − off, c + off)</c> for every
/// internal border <c>c</c>. anomalib marks multiples of the stride only; we mark every tile start and tile end inside
/// the image, which is the same set when the tile is a multiple of the stride and also catches the overlap borders when
/// it is not.
/// </remarks>
public sealed class SeamSmoother : ISeamSmoother
{
    /// <summary>The name runs record for this seam smoother.</summary>
    public const string StageName = "seam_smoother";

    /// <summary>The default standard deviation of the Gaussian, in pixels (anomalib's).</summary>
    public const double DefaultSigma = 2.0;

    /// <summary>The default half-width of a band as a fraction of the tile size (anomalib's).</summary>
    public const double DefaultWidth = 0.1;

    /// <summary>Creates a seam smoother.</summary>
    /// <param name="sigma">Standard deviation of the Gaussian, in pixels.</param>
    /// <param name="width">Half-width of the smoothed band as a fraction of the tile size.</param>
    public SeamSmoother(double sigma = DefaultSigma, double width = DefaultWidth)
    {
        GaussianBlur.KernelSize(sigma);
        if (!(width > 0) || width > 1)
        {
            throw new ArgumentException(
                $"width is a fraction of the tile size and must be in (0, 1]; got {width}.",
                nameof(width)
            );
        }

        Sigma = sigma;
        Width = width;
    }

    /// <summary>Standard deviation of the Gaussian, in pixels.</summary>
    public double Sigma { get; }

    /// <summary>Half-width of the band as a fraction of the tile size.</summary>
    public double Width { get; }

    /// <inheritdoc />
    public StageIdentity Identity =>
        new(
            StageName,
            new System.Collections.Generic.Dictionary<string, string>
            {
                ["sigma"] = StageIdentity.Format(Sigma),
                ["width"] = StageIdentity.Format(Width),
            }
        );

    /// <summary>The [H, W] boolean mask of the pixels that <see cref="Smooth"/> replaces.</summary>
    public Tensor SeamMask(TileGrid grid, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var rows = Band(grid, vertical: true);
        var columns = Band(grid, vertical: false);
        using var scope = NewDisposeScope();
        var mask = tensor(rows, device: device).unsqueeze(1).logical_or(tensor(columns, device: device).unsqueeze(0));
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>The rows (or columns) within a band of <c>floor(tile · width)</c> of an internal border.</summary>
    private bool[] Band(TileGrid grid, bool vertical) =>
        grid.BorderBand(vertical, (int)((vertical ? grid.TileSize.Height : grid.TileSize.Width) * Width));

    /// <summary>Smooths the seams of joined maps.</summary>
    /// <param name="maps">[B, C, H, W] floating point, H and W equal to the grid's image size.</param>
    /// <param name="grid">The grid the maps were joined from.</param>
    /// <returns>A new tensor; pixels outside the seam bands are copied unchanged.</returns>
    public Tensor Smooth(Tensor maps, TileGrid grid)
    {
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, C, H, W]");
        TensorGuard.FloatingPoint(maps, nameof(maps));
        ArgumentNullException.ThrowIfNull(grid);
        if (maps.shape[2] != grid.ImageSize.Height || maps.shape[3] != grid.ImageSize.Width)
        {
            throw new ArgumentException(
                $"maps are {maps.shape[2]}x{maps.shape[3]} but the tile grid is for {grid.ImageSize}.",
                nameof(maps)
            );
        }

        // Equal to where(SeamMask, blur(maps), maps), but the blur is computed only over the bands: a band of rows is
        // whole rows of the mask, a band of columns whole columns, so each run of band rows (columns) is one strip.
        using var scope = NewDisposeScope();
        var kernel = GaussianBlur.Kernel1D(Sigma);
        var padded = GaussianBlur.Pad(maps, kernel.Length / 2);
        var smoothed = maps.clone();
        long height = maps.shape[2],
            width = maps.shape[3];
        foreach (var (start, length) in Runs(Band(grid, vertical: true)))
        {
            smoothed.narrow(2, start, length).copy_(GaussianBlur.BlurPadded(padded, kernel, start, length, 0, width));
        }

        foreach (var (start, length) in Runs(Band(grid, vertical: false)))
        {
            smoothed.narrow(3, start, length).copy_(GaussianBlur.BlurPadded(padded, kernel, 0, height, start, length));
        }

        return smoothed.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Smooth"/> as ONNX nodes: the whole map blurred (separable, horizontal then vertical, reflect padding
    /// as <see cref="GaussianBlur.Apply"/>) and kept only in the bands; returns the output's name.
    /// </summary>
    internal string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string maps, TileGrid grid, string hint)
    {
        long height = grid.ImageSize.Height,
            width = grid.ImageSize.Width;
        var blurred = GaussianBlur.Export(g, maps, Sigma, height, width, hint);
        var rows = Band(grid, vertical: true);
        var columns = Band(grid, vertical: false);
        var band = new bool[height * width];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                band[(y * width) + x] = rows[y] || columns[x];
            }
        }

        return g.Where(g.Bools($"{hint}.band", band, 1, 1, height, width), blurred, maps);
    }

    private static System.Collections.Generic.IEnumerable<(int Start, int Length)> Runs(bool[] band)
    {
        int i = 0;
        while (i < band.Length)
        {
            if (!band[i])
            {
                i++;
                continue;
            }

            int start = i;
            while (i < band.Length && band[i])
            {
                i++;
            }

            yield return (start, i - start);
        }
    }
}
