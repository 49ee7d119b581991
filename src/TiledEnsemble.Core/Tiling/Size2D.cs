using System;

namespace TiledEnsemble.Tiling;

/// <summary>
/// A height and width in pixels. Converts implicitly from one <see cref="int"/> (square) or an
/// <c>(height, width)</c> tuple, so sizes can be written as <c>256</c> or <c>(256, 512)</c>.
/// </summary>
/// <param name="Height">Rows, in pixels.</param>
/// <param name="Width">Columns, in pixels.</param>
public readonly record struct Size2D(int Height, int Width)
{
    /// <summary>A square size.</summary>
    public static implicit operator Size2D(int side) => new(side, side);

    /// <summary>A size from an (height, width) pair.</summary>
    public static implicit operator Size2D((int Height, int Width) size) => new(size.Height, size.Width);

    /// <summary>Number of pixels.</summary>
    public long Area => (long)Height * Width;

    /// <summary>Throws unless both sides are positive.</summary>
    /// <param name="parameterName">The parameter to name in the exception.</param>
    internal Size2D EnsurePositive(string parameterName)
    {
        if (Height <= 0 || Width <= 0)
        {
            throw new ArgumentException(
                $"{parameterName} must be positive in both dimensions; got {this}.",
                parameterName
            );
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Height}x{Width}";
}
