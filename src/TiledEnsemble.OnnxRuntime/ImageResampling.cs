using System;
using System.Numerics;

namespace TiledEnsemble.Deployment;

/// <summary>
/// The resizing TiledEnsemble does with libtorch, written out on arrays in the same float arithmetic: images to the
/// image size with antialiased bilinear interpolation (<c>interpolate(…, antialias: true)</c>, then clamped to
/// [0, 1]); maps back to an image's size bilinearly and masks by nearest neighbour (<c>align_corners: false</c>).
/// </summary>
internal static class ImageResampling
{
    /// <summary>[C, h, w] → [C, height, width] into <paramref name="destination"/>, antialiased bilinear, width first
    /// then height, clamped to [0, 1].</summary>
    public static void ResizeImage(
        float[] image,
        int channels,
        int h,
        int w,
        int height,
        int width,
        Span<float> destination
    )
    {
        var horizontal = w == width ? image : Antialiased(image, channels * h, w, width);
        var resized = h == height ? horizontal : AntialiasedRows(horizontal, channels, h, width, height);
        ClampToUnit(resized, destination);
    }

    /// <summary>An [h, w] map at [height, width], bilinear without antialiasing (libtorch's
    /// upsample_bilinear2d); <paramref name="map"/> itself when the sizes agree.</summary>
    public static float[] RestoreMap(float[] map, int h, int w, int height, int width)
    {
        if (h == height && w == width)
        {
            return map;
        }

        var (rows0, rows1, rowWeights) = LinearIndices(h, height);
        var (columns0, columns1, columnWeights) = LinearIndices(w, width);
        var result = new float[height * width];
        for (int y = 0; y < height; y++)
        {
            float hw0 = 1f - rowWeights[y],
                hw1 = rowWeights[y];
            int top = rows0[y] * w,
                bottom = rows1[y] * w;
            for (int x = 0; x < width; x++)
            {
                float ww0 = 1f - columnWeights[x],
                    ww1 = columnWeights[x];
                float upper = (map[top + columns0[x]] * ww0) + (map[top + columns1[x]] * ww1);
                float lower = (map[bottom + columns0[x]] * ww0) + (map[bottom + columns1[x]] * ww1);
                result[(y * width) + x] = (upper * hw0) + (lower * hw1);
            }
        }

        return result;
    }

    /// <summary>An [h, w] mask at [height, width] by nearest neighbour (libtorch's nearest mode);
    /// <paramref name="mask"/> itself when the sizes agree.</summary>
    public static bool[] RestoreMask(bool[] mask, int h, int w, int height, int width)
    {
        if (h == height && w == width)
        {
            return mask;
        }

        var rows = NearestIndices(h, height);
        var columns = NearestIndices(w, width);
        var result = new bool[height * width];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                result[(y * width) + x] = mask[(rows[y] * w) + columns[x]];
            }
        }

        return result;
    }

    /// <summary>Antialiased resampling of the last axis of <paramref name="lines"/> rows of <paramref name="input"/>
    /// values.</summary>
    private static float[] Antialiased(float[] source, int lines, int input, int output)
    {
        var (starts, sizes, weights) = AntialiasWeights(input, output);
        var result = new float[lines * output];
        for (int line = 0; line < lines; line++)
        {
            int from = line * input;
            for (int o = 0; o < output; o++)
            {
                float sum = 0f;
                var wo = weights[o];
                for (int j = 0; j < sizes[o]; j++)
                {
                    sum += source[from + starts[o] + j] * wo[j];
                }

                result[(line * output) + o] = sum;
            }
        }

        return result;
    }

    /// <summary>Antialiased resampling of the rows of [C, h, width] to [C, height, width].</summary>
    private static float[] AntialiasedRows(float[] source, int channels, int h, int width, int height)
    {
        var (starts, sizes, weights) = AntialiasWeights(h, height);
        var result = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
        {
            for (int o = 0; o < height; o++)
            {
                var wo = weights[o];
                for (int x = 0; x < width; x++)
                {
                    float sum = 0f;
                    for (int j = 0; j < sizes[o]; j++)
                    {
                        sum += source[(((c * h) + starts[o] + j) * width) + x] * wo[j];
                    }

                    result[(((c * height) + o) * width) + x] = sum;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// libtorch's antialiased linear weights along one axis: a triangle filter of support max(scale, 1) around each
    /// output's centre, normalized, in float.
    /// </summary>
    private static (int[] Starts, int[] Sizes, float[][] Weights) AntialiasWeights(int input, int output)
    {
        float scale = (float)input / output;
        float support = scale >= 1f ? scale : 1f;
        float invscale = scale >= 1f ? 1f / scale : 1f;
        var starts = new int[output];
        var sizes = new int[output];
        var weights = new float[output][];
        for (int i = 0; i < output; i++)
        {
            float center = scale * (i + 0.5f);
            int xmin = Math.Max((int)(center - support + 0.5f), 0);
            int xsize = Math.Min((int)(center + support + 0.5f), input) - xmin;
            var w = new float[Math.Max(xsize, 0)];
            float total = 0f;
            for (int j = 0; j < w.Length; j++)
            {
                float x = (j + xmin - center + 0.5f) * invscale;
                w[j] = Math.Abs(x) < 1f ? 1f - Math.Abs(x) : 0f;
                total += w[j];
            }

            if (total != 0f)
            {
                for (int j = 0; j < w.Length; j++)
                {
                    w[j] /= total;
                }
            }

            starts[i] = xmin;
            sizes[i] = w.Length;
            weights[i] = w;
        }

        return (starts, sizes, weights);
    }

    /// <summary>The two source indices and the weight of the second for bilinear resizing along one axis.</summary>
    private static (int[] First, int[] Second, float[] Lambda) LinearIndices(int input, int output)
    {
        float scale = (float)input / output;
        var first = new int[output];
        var second = new int[output];
        var lambda = new float[output];
        for (int i = 0; i < output; i++)
        {
            float real = Math.Max((scale * (i + 0.5f)) - 0.5f, 0f);
            int index = (int)real;
            first[i] = index;
            second[i] = index + (index < input - 1 ? 1 : 0);
            lambda[i] = Math.Clamp(real - index, 0f, 1f);
        }

        return (first, second, lambda);
    }

    private static int[] NearestIndices(int input, int output)
    {
        var indices = new int[output];
        float scale = (float)input / output;
        for (int i = 0; i < output; i++)
        {
            indices[i] = output == 2 * input ? i >> 1 : Math.Min((int)MathF.Floor(i * scale), input - 1);
        }

        return indices;
    }

    /// <summary>Copies <paramref name="source"/> clamped to [0, 1], a vector at a time (the values are finite:
    /// DeployedImage refuses others).</summary>
    private static void ClampToUnit(ReadOnlySpan<float> source, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector
                    .Min(Vector.Max(new Vector<float>(source[i..]), Vector<float>.Zero), Vector<float>.One)
                    .CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = Math.Clamp(source[i], 0f, 1f);
        }
    }
}
