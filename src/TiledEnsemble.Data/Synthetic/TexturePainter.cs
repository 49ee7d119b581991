using System;

namespace TiledEnsemble.Data.Synthetic;

/// <summary>Paints seeded procedural textures; every image of a texture shares its structure but not its exact phase or
/// noise.</summary>
internal static class TexturePainter
{
    public static RgbImage Paint(TextureKind kind, int height, int width, Random random)
    {
        var image = new RgbImage(height, width);
        var noise = new ValueNoise(random, 8);
        // Textures are taken at any offset; a part is registered to within a pixel.
        double reach = kind == TextureKind.AlignedPart ? 1 : 16;
        double phaseX = random.NextDouble() * reach,
            phaseY = random.NextDouble() * reach;
        double shade = 0.95 + (0.1 * random.NextDouble());
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double u = (x + phaseX) / width,
                    v = (y + phaseY) / height;
                double n = noise.Sample(u * 6, v * 6);
                double grain = (random.NextDouble() - 0.5) * 0.03;
                var (r, g, b) = kind switch
                {
                    TextureKind.WovenFabric => Fabric(x + phaseX, y + phaseY, n),
                    TextureKind.WoodGrain => Wood(u, v, n),
                    TextureKind.BrushedMetal => Metal(y + phaseY, n, noise.Sample(u * 40, v * 1.5)),
                    TextureKind.AlignedPart => Part(u, v, n),
                    _ => Tiles(x + phaseX, y + phaseY, n, width),
                };
                image.Set(
                    y,
                    x,
                    (float)((r * shade) + grain),
                    (float)((g * shade) + grain),
                    (float)((b * shade) + grain)
                );
            }
        }

        return image;
    }

    private static (double R, double G, double B) Fabric(double x, double y, double n)
    {
        const double period = 8;
        double warp = Math.Sin(2 * Math.PI * x / period),
            weft = Math.Sin(2 * Math.PI * y / period);
        bool over = (((int)Math.Floor(x / period) + (int)Math.Floor(y / period)) & 1) == 0;
        double thread = over ? 0.5 + (0.25 * Math.Abs(warp)) : 0.5 + (0.25 * Math.Abs(weft));
        double value = thread + (0.05 * n);
        return (value * 0.55, value * 0.62, value * 0.85);
    }

    private static (double R, double G, double B) Wood(double u, double v, double n)
    {
        double rings = Math.Sqrt(((u - 0.3) * (u - 0.3) * 0.15) + ((v + 0.8) * (v + 0.8))) * 18 + (1.5 * n);
        double ring = 0.5 + (0.5 * Math.Sin(2 * Math.PI * rings));
        double value = 0.45 + (0.25 * ring);
        return (value * 1.0, value * 0.72, value * 0.45);
    }

    private static (double R, double G, double B) Metal(double y, double n, double streak)
    {
        double value = 0.55 + (0.18 * streak) + (0.04 * Math.Sin(y * 0.9)) + (0.03 * n);
        return (value, value, value * 1.03);
    }

    private static (double R, double G, double B) Tiles(double x, double y, double n, int size)
    {
        double period = Math.Max(12, size / 8.0);
        double fx = x % period,
            fy = y % period;
        bool grout = fx < 2 || fy < 2;
        double tileShade = 0.03 * Math.Sin((Math.Floor(x / period) * 1.7) + (Math.Floor(y / period) * 2.3));
        double value = grout ? 0.35 : 0.78 + tileShade + (0.03 * n);
        return (value * 0.95, value * 0.93, value * 0.88);
    }

    private static readonly (double U, double V)[] Holes = { (0.16, 0.2), (0.84, 0.2), (0.16, 0.8), (0.84, 0.8) };

    private static (double R, double G, double B) Part(double u, double v, double n)
    {
        double value = 0.18 + (0.02 * n);
        if (u > 0.08 && u < 0.92 && v > 0.12 && v < 0.88)
        {
            value = 0.7 + (0.03 * n);
            double bore = Math.Sqrt(((u - 0.5) * (u - 0.5)) + ((v - 0.45) * (v - 0.45)));
            if (bore is > 0.1 and < 0.14)
            {
                value = 0.42;
            }
            else if (v is > 0.68 and < 0.78 && u is > 0.3 and < 0.7 && (u - 0.3) % 0.05 < 0.022)
            {
                value = 0.92;
            }

            foreach (var (hu, hv) in Holes)
            {
                if (((u - hu) * (u - hu)) + ((v - hv) * (v - hv)) < 0.045 * 0.045)
                {
                    value = 0.08;
                }
            }
        }

        return (value, value * 0.98, value * 0.9);
    }

    /// <summary>Smooth value noise in [−1, 1] from a seeded lattice, bilinearly interpolated with a
    /// smoothstep.</summary>
    private sealed class ValueNoise
    {
        private readonly double[] _lattice;
        private readonly int _size;

        public ValueNoise(Random random, int size)
        {
            _size = size;
            _lattice = new double[size * size];
            for (int i = 0; i < _lattice.Length; i++)
            {
                _lattice[i] = (random.NextDouble() * 2) - 1;
            }
        }

        public double Sample(double x, double y)
        {
            int x0 = (int)Math.Floor(x),
                y0 = (int)Math.Floor(y);
            double fx = Smooth(x - x0),
                fy = Smooth(y - y0);
            double a = At(x0, y0),
                b = At(x0 + 1, y0),
                c = At(x0, y0 + 1),
                d = At(x0 + 1, y0 + 1);
            return ((a * (1 - fx)) + (b * fx)) * (1 - fy) + (((c * (1 - fx)) + (d * fx)) * fy);
        }

        private static double Smooth(double t) => t * t * (3 - (2 * t));

        private double At(int x, int y) => _lattice[(Mod(y, _size) * _size) + Mod(x, _size)];

        private static int Mod(int a, int m) => ((a % m) + m) % m;
    }
}
