using System;

namespace TiledEnsemble.Data.Synthetic;

/// <summary>
/// Paints one defect of about <c>areaFraction</c> of the image onto a copy of a clean image, at full strength or
/// blended toward the clean image by <c>strength</c>. The mask is, by construction, exactly the set of pixels whose
/// stored (8-bit) value the defect changed.
/// </summary>
internal static class DefectPainter
{
    public static (RgbImage Image, bool[] Mask) Paint(
        RgbImage clean,
        DefectKind kind,
        double areaFraction,
        Random random,
        double strength = 1
    )
    {
        var image = clean.Clone();
        int h = image.Height,
            w = image.Width;
        double area = Math.Max(4, areaFraction * h * w);
        double side = Math.Sqrt(area);
        double margin = Math.Min(Math.Min(h, w) / 2.0 - 1, side + 2);
        double cy = margin + (random.NextDouble() * (h - (2 * margin))),
            cx = margin + (random.NextDouble() * (w - (2 * margin)));
        float contrast = MeanAround(clean, (int)cy, (int)cx, (int)side) > 0.5 ? 0.08f : 0.95f;

        switch (kind)
        {
            case DefectKind.Scratch:
            {
                double width = Math.Clamp(side / 10, 1.0, 3.0);
                Line(
                    image,
                    cy,
                    cx,
                    area / width,
                    width,
                    random.NextDouble() * Math.PI,
                    0,
                    contrast,
                    contrast,
                    contrast,
                    0.85f,
                    random
                );
                break;
            }

            case DefectKind.Spot:
            {
                double radius = Math.Max(1.5, side / Math.Sqrt(Math.PI));
                Ellipse(image, cy, cx, radius, radius, 0, contrast, contrast * 0.9f, contrast * 0.8f, 0.9f, null);
                break;
            }

            case DefectKind.Cut:
                Line(
                    image,
                    cy,
                    cx,
                    area / 2.5,
                    2.5,
                    random.NextDouble() * Math.PI,
                    1.2,
                    0.03f,
                    0.02f,
                    0.02f,
                    0.95f,
                    random
                );
                break;

            case DefectKind.ColorStain:
            {
                double aspect = 0.6 + (0.8 * random.NextDouble());
                double a = Math.Sqrt(area / Math.PI * aspect),
                    b = Math.Sqrt(area / Math.PI / aspect);
                bool red = random.NextDouble() < 0.5;
                Ellipse(
                    image,
                    cy,
                    cx,
                    a,
                    b,
                    random.NextDouble() * Math.PI,
                    red ? 0.75f : 0.25f,
                    red ? 0.2f : 0.6f,
                    red ? 0.15f : 0.2f,
                    0.6f,
                    random
                );
                break;
            }

            default:
                MissingPattern(image, cy, cx, side);
                break;
        }

        if (strength < 1)
        {
            for (int i = 0; i < image.Pixels.Length; i++)
            {
                image.Pixels[i] = clean.Pixels[i] + (float)(strength * (image.Pixels[i] - clean.Pixels[i]));
            }
        }

        var mask = new bool[h * w];
        for (int p = 0; p < mask.Length; p++)
        {
            int i = p * 3;
            mask[p] =
                image.Quantized(i) != clean.Quantized(i)
                || image.Quantized(i + 1) != clean.Quantized(i + 1)
                || image.Quantized(i + 2) != clean.Quantized(i + 2);
        }

        return (image, mask);
    }

    private static double MeanAround(RgbImage image, int cy, int cx, int radius)
    {
        double sum = 0;
        int count = 0;
        for (int y = Math.Max(0, cy - radius); y < Math.Min(image.Height, cy + radius + 1); y++)
        {
            for (int x = Math.Max(0, cx - radius); x < Math.Min(image.Width, cx + radius + 1); x++)
            {
                int i = ((y * image.Width) + x) * 3;
                sum += (image.Pixels[i] + image.Pixels[i + 1] + image.Pixels[i + 2]) / 3;
                count++;
            }
        }

        return count == 0 ? 0.5 : sum / count;
    }

    /// <summary>A straight (or, with jitter, jagged) stroke of the given length and width centred on (cy,
    /// cx).</summary>
    private static void Line(
        RgbImage image,
        double cy,
        double cx,
        double length,
        double width,
        double angle,
        double jitter,
        float r,
        float g,
        float b,
        float alpha,
        Random random
    )
    {
        double dy = Math.Sin(angle),
            dx = Math.Cos(angle);
        int steps = Math.Max(2, (int)Math.Ceiling(length * 2));
        double offset = 0;
        for (int s = 0; s <= steps; s++)
        {
            double t = (s / (double)steps - 0.5) * length;
            offset = Math.Clamp(offset + ((random.NextDouble() - 0.5) * jitter), -2 * jitter, 2 * jitter);
            double py = cy + (t * dy) + (offset * dx),
                px = cx + (t * dx) - (offset * dy);
            Disc(image, py, px, width / 2, r, g, b, alpha);
        }
    }

    private static void Disc(
        RgbImage image,
        double cy,
        double cx,
        double radius,
        float r,
        float g,
        float b,
        float alpha
    )
    {
        for (int y = (int)Math.Floor(cy - radius - 1); y <= (int)Math.Ceiling(cy + radius + 1); y++)
        {
            for (int x = (int)Math.Floor(cx - radius - 1); x <= (int)Math.Ceiling(cx + radius + 1); x++)
            {
                double d = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx)));
                double coverage = Math.Clamp(radius + 0.5 - d, 0, 1);
                if (coverage > 0)
                {
                    image.Blend(y, x, r, g, b, (float)(alpha * coverage));
                }
            }
        }
    }

    private static void Ellipse(
        RgbImage image,
        double cy,
        double cx,
        double a,
        double b,
        double angle,
        float r,
        float g,
        float bl,
        float alpha,
        Random? roughness
    )
    {
        double cos = Math.Cos(angle),
            sin = Math.Sin(angle);
        double reach = Math.Max(a, b) + 2;
        double wobble = roughness is null ? 0 : roughness.NextDouble() * Math.PI;
        for (int y = (int)Math.Floor(cy - reach); y <= (int)Math.Ceiling(cy + reach); y++)
        {
            for (int x = (int)Math.Floor(cx - reach); x <= (int)Math.Ceiling(cx + reach); x++)
            {
                double ry = y - cy,
                    rx = x - cx;
                double u = ((rx * cos) + (ry * sin)) / a,
                    v = ((-rx * sin) + (ry * cos)) / b;
                double radial = Math.Sqrt((u * u) + (v * v));
                double edge = roughness is null ? 1 : 1 + (0.15 * Math.Sin((3 * Math.Atan2(v, u)) + wobble));
                double coverage = Math.Clamp((edge - radial) * Math.Min(a, b), 0, 1);
                image.Blend(y, x, r, g, bl, (float)(alpha * coverage));
            }
        }
    }

    private static void MissingPattern(RgbImage image, double cy, double cx, double side)
    {
        int half = Math.Max(1, (int)(side / 2));
        int top = Math.Max(0, (int)cy - half),
            left = Math.Max(0, (int)cx - half);
        int bottom = Math.Min(image.Height, (int)cy + half),
            right = Math.Min(image.Width, (int)cx + half);
        double sr = 0,
            sg = 0,
            sb = 0;
        int count = 0;
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
            {
                int i = ((y * image.Width) + x) * 3;
                sr += image.Pixels[i];
                sg += image.Pixels[i + 1];
                sb += image.Pixels[i + 2];
                count++;
            }
        }

        // A flat patch a little darker than the surface mean: the texture is gone, the colour stays plausible.
        float mr = (float)(sr / count * 0.85),
            mg = (float)(sg / count * 0.85),
            mb = (float)(sb / count * 0.85);
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
            {
                image.Set(y, x, mr, mg, mb);
            }
        }
    }
}
