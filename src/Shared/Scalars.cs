using TorchSharp;

namespace TiledEnsemble;

/// <summary>Constant TorchSharp scalars that live for the whole process.</summary>
/// <remarks>
/// A Scalar made by implicit conversion (<c>t.clamp(0, 1)</c>) is unreachable while libtorch reads it and can be
/// finalized by a collection on another thread, which crashed the process under load. Constants are therefore
/// kept here, rooted forever, and other values are created with <c>using var s = value.ToScalar();</c> so that the
/// <c>using</c> keeps them alive across the call. The analyzer TE0001 (build/TiledEnsemble.Analyzers) reports any
/// implicit conversion that slips back in.
/// </remarks>
internal static class Scalars
{
    /// <summary>0 (as an integer, so that integer tensors stay integer).</summary>
    public static readonly Scalar Zero = 0L.ToScalar();

    /// <summary>1 (as an integer).</summary>
    public static readonly Scalar One = 1L.ToScalar();

    /// <summary>2 (as an integer), the exponent of squares: Tensor.square() makes a temporary Scalar
    /// internally.</summary>
    public static readonly Scalar Two = 2L.ToScalar();

    /// <summary>0.5, the threshold for binary masks stored as floats.</summary>
    public static readonly Scalar Half = 0.5.ToScalar();
}
