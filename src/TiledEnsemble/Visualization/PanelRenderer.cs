using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Visualization;

/// <summary>A colour scale drawn under a picture: the jet map from 0 to 1 with a marker at the threshold.</summary>
/// <param name="Label">What the colours measure.</param>
/// <param name="Low">Value at the left end.</param>
/// <param name="High">Value at the right end.</param>
/// <param name="Threshold">Value marked as the threshold (null: none).</param>
internal sealed record ColourScale(string Label, double Low, double High, double? Threshold);

/// <summary>
/// Draws titled image panels side by side, caption lines under them and an optional colour scale, and writes the
/// picture as PNG (beside its destination, then renamed over it).
/// </summary>
/// <remarks>
/// Text uses the system's sans-serif font (DejaVu Sans, Liberation Sans, …). SkiaSharp draws no text where the system
/// has no font at all; the pictures are then untitled but otherwise complete.
/// </remarks>
internal static class PanelRenderer
{
    private const int Margin = 10;
    private const int Gap = 8;
    private const int TitleHeight = 22;
    private const int LineHeight = 18;
    private const int MinimumPanelHeight = 160;
    private const int MaxCanvasSide = 8192;
    private static readonly Lazy<SKTypeface> Typeface = new(() =>
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "sans-serif" }
            .Select(name => SKFontManager.Default.MatchFamily(name))
            .FirstOrDefault(t => t is not null)
        ?? SKTypeface.Default
    );

    /// <summary>Renders and writes the picture.</summary>
    /// <param name="path">PNG file to write.</param>
    /// <param name="panels">Titled [3, H, W] images in [0, 1], all of one height.</param>
    /// <param name="caption">Lines under the panels.</param>
    /// <param name="scale">The heat map's colour scale, or null.</param>
    public static void Write(
        string path,
        IReadOnlyList<(string Title, Tensor Image)> panels,
        IReadOnlyList<string> caption,
        ColourScale? scale
    )
    {
        using var bitmaps = new DisposableList<SKBitmap>(panels.Select(p => ToBitmap(p.Image)));
        int height = bitmaps[0].Height;
        long storedWidth = bitmaps.Sum(b => (long)b.Width);

        // Small images are enlarged to be seen; the picture stays within MaxCanvasSide whatever the panels' shape (a
        // 2x8192 image enlarged to 160 rows would be a canvas no surface can hold).
        double zoom = height < MinimumPanelHeight ? Math.Ceiling((double)MinimumPanelHeight / height) : 1;
        double room = MaxCanvasSide - (2 * Margin) - (Gap * (bitmaps.Count - 1));
        zoom = Math.Min(zoom, Math.Min(room / storedWidth, (double)MaxCanvasSide / height));
        int panelHeight = Math.Max(1, (int)(height * zoom));
        var widths = bitmaps.Select(b => Math.Max(1, (int)(b.Width * zoom))).ToArray();
        int width = Math.Max((2 * Margin) + widths.Sum() + (Gap * (widths.Length - 1)), 560);
        int scaleHeight = scale is null ? 0 : 48;
        int total = Margin + TitleHeight + panelHeight + Gap + (caption.Count * LineHeight) + scaleHeight + Margin;

        using var surface = SKSurface.Create(new SKImageInfo(width, total, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException(
                $"Cannot draw the picture '{path}': no drawing surface of {width}x{total} pixels could be made."
            );
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(Typeface.Value, 14);
        using var small = new SKFont(Typeface.Value, 12);
        using var ink = new SKPaint { Color = new SKColor(30, 30, 30), IsAntialias = true };
        using var sampling = new SKPaint();
        int x = Margin;
        for (int i = 0; i < bitmaps.Count; i++)
        {
            canvas.DrawText(panels[i].Title, x, Margin + 15, font, ink);
            using var image = SKImage.FromBitmap(bitmaps[i]);
            canvas.DrawImage(
                image,
                new SKRect(x, Margin + TitleHeight, x + widths[i], Margin + TitleHeight + panelHeight),
                zoom >= 1
                    ? new SKSamplingOptions(SKFilterMode.Nearest)
                    : new SKSamplingOptions(SKCubicResampler.Mitchell),
                sampling
            );
            x += widths[i] + Gap;
        }

        int y = Margin + TitleHeight + panelHeight + Gap + 13;
        foreach (var line in caption)
        {
            canvas.DrawText(line, Margin, y, small, ink);
            y += LineHeight;
        }

        if (scale is not null)
        {
            DrawScale(canvas, scale, Margin, y - 6, Math.Min(width - (2 * Margin), 420), small, ink);
        }

        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, png.SaveTo);
    }

    private static void DrawScale(
        SKCanvas canvas,
        ColourScale scale,
        int left,
        int top,
        int width,
        SKFont font,
        SKPaint ink
    )
    {
        const int BarHeight = 12;
        using var scope = NewDisposeScope();
        using var bar = ToBitmap(Colormap.Jet(linspace(0, 1, width).unsqueeze(0)));
        using var image = SKImage.FromBitmap(bar);
        using var sampling = new SKPaint();
        canvas.DrawImage(
            image,
            new SKRect(left, top, left + width, top + BarHeight),
            new SKSamplingOptions(SKFilterMode.Nearest),
            sampling
        );
        canvas.DrawText($"{scale.Low:0.##}", left, top + BarHeight + 14, font, ink);
        var high = $"{scale.High:0.##}";
        canvas.DrawText(high, left + width - font.MeasureText(high), top + BarHeight + 14, font, ink);
        canvas.DrawText(scale.Label, left + width + Gap, top + 10, font, ink);
        if (scale.Threshold is { } threshold && scale.High > scale.Low)
        {
            float at =
                left
                + (float)(
                    (Math.Clamp(threshold, scale.Low, scale.High) - scale.Low) / (scale.High - scale.Low) * width
                );
            using var marker = new SKPaint
            {
                Color = SKColors.Black,
                StrokeWidth = 2,
                IsAntialias = true,
            };
            canvas.DrawLine(at, top - 3, at, top + BarHeight + 3, marker);
            var label = $"threshold {threshold:0.###}";
            canvas.DrawText(label, at - (font.MeasureText(label) / 2), top + BarHeight + 14, font, ink);
        }
    }

    /// <summary>[3, H, W] floats in [0, 1] as an RGBA bitmap.</summary>
    private static SKBitmap ToBitmap(Tensor image)
    {
        using var scope = NewDisposeScope();
        using var opaque = 255.ToScalar();
        var rgb = image
            .to_type(ScalarType.Float32)
            .cpu()
            .clamp(Scalars.Zero, Scalars.One)
            .mul(opaque)
            .round()
            .to_type(ScalarType.Byte);
        long h = rgb.shape[1],
            w = rgb.shape[2];
        var rgba = cat(new[] { rgb, full(new[] { 1L, h, w }, opaque, ScalarType.Byte) }, 0)
            .permute(1, 2, 0)
            .contiguous();
        var bytes = rgba.data<byte>().ToArray();
        var bitmap = new SKBitmap(new SKImageInfo((int)w, (int)h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }

    private sealed class DisposableList<T> : List<T>, IDisposable
        where T : IDisposable
    {
        public DisposableList(IEnumerable<T> items)
            : base(items) { }

        public void Dispose() => ForEach(item => item.Dispose());
    }
}
