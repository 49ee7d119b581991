using System;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// EXIF (and TIFF) orientation, applied on decode as image viewers apply it, so that maps line up with what people
/// see. Codes 1–8 as EXIF defines them: 1 is as stored; 2–4 mirror or turn by 180°; 5–8 swap the sides (6: turn
/// 90° clockwise, 8: 90° counter-clockwise, 5 and 7: mirrored along a diagonal). Other values are treated as 1.
/// Shared as source with TiledEnsemble.OnnxRuntime.
/// </summary>
internal static class ImageOrientation
{
    /// <summary>The code as applied: 1 for anything outside 1–8.</summary>
    public static int Normalize(int origin) => origin is >= 1 and <= 8 ? origin : 1;

    /// <summary>Whether the displayed image's width is the stored height.</summary>
    public static bool SwapsSides(int origin) => Normalize(origin) >= 5;

    /// <summary>
    /// Where the displayed pixel (<paramref name="row"/>, <paramref name="column"/>) of an image stored as
    /// <paramref name="height"/> × <paramref name="width"/> is stored.
    /// </summary>
    public static (int Row, int Column) Source(int origin, int row, int column, int height, int width) =>
        Normalize(origin) switch
        {
            2 => (row, width - 1 - column),
            3 => (height - 1 - row, width - 1 - column),
            4 => (height - 1 - row, column),
            5 => (column, row),
            6 => (height - 1 - column, row),
            7 => (height - 1 - column, width - 1 - row),
            8 => (column, width - 1 - row),
            _ => (row, column),
        };

    /// <summary>Planes [C, H, W] as displayed; the same array when the orientation is 1.</summary>
    public static float[] ApplyPlanar(float[] planes, int channels, int height, int width, int origin)
    {
        if (Normalize(origin) == 1)
        {
            return planes;
        }

        bool swap = SwapsSides(origin);
        int outHeight = swap ? width : height,
            outWidth = swap ? height : width;
        var result = new float[planes.Length];
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width;
            for (int row = 0; row < outHeight; row++)
            {
                for (int column = 0; column < outWidth; column++)
                {
                    var (r, k) = Source(origin, row, column, height, width);
                    result[plane + (row * outWidth) + column] = planes[plane + (r * width) + k];
                }
            }
        }

        return result;
    }
}
