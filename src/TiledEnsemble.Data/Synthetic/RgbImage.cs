using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Data.Synthetic;

/// <summary>A small CPU image buffer (channel-last floats in [0, 1]) used while painting.</summary>
internal sealed class RgbImage
{
    public RgbImage(int height, int width)
    {
        Height = height;
        Width = width;
        Pixels = new float[height * width * 3];
    }

    public int Height { get; }

    public int Width { get; }

    public float[] Pixels { get; }

    public RgbImage Clone()
    {
        var copy = new RgbImage(Height, Width);
        Array.Copy(Pixels, copy.Pixels, Pixels.Length);
        return copy;
    }

    public void Set(int y, int x, float r, float g, float b)
    {
        int i = ((y * Width) + x) * 3;
        Pixels[i] = Math.Clamp(r, 0, 1);
        Pixels[i + 1] = Math.Clamp(g, 0, 1);
        Pixels[i + 2] = Math.Clamp(b, 0, 1);
    }

    /// <summary>Blends a colour over pixel (y, x) with weight <paramref name="alpha"/>.</summary>
    public void Blend(int y, int x, float r, float g, float b, float alpha)
    {
        if ((uint)y >= (uint)Height || (uint)x >= (uint)Width || alpha <= 0)
        {
            return;
        }

        alpha = Math.Min(alpha, 1);
        int i = ((y * Width) + x) * 3;
        Pixels[i] = Math.Clamp((Pixels[i] * (1 - alpha)) + (r * alpha), 0, 1);
        Pixels[i + 1] = Math.Clamp((Pixels[i + 1] * (1 - alpha)) + (g * alpha), 0, 1);
        Pixels[i + 2] = Math.Clamp((Pixels[i + 2] * (1 - alpha)) + (b * alpha), 0, 1);
    }

    /// <summary>The pixel values rounded to 8 bits, as they will be stored.</summary>
    public byte Quantized(int index) => (byte)Math.Round(Pixels[index] * 255);

    /// <summary>[3, H, W] float32 tensor of the 8-bit-rounded values (what a reader of the PNG gets).</summary>
    public Tensor ToTensor()
    {
        var values = new float[Pixels.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Quantized(i) / 255f;
        }

        using var scope = NewDisposeScope();
        return tensor(values, new long[] { Height, Width, 3 }).permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();
    }
}
