using System;
using System.Collections.Generic;
using TiledEnsemble.Export;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Imaging;

/// <summary>
/// Resizing with libtorch's <c>interpolate</c> followed by <see cref="GaussianBlur.Apply"/>, computed as one separable
/// linear operator: <c>result = Rₕ · map · R_wᵀ</c>, where each <c>R</c> is the blur matrix times the resize
/// matrix of one axis. Equal to the two steps up to float rounding (tested).
/// </summary>
/// <remarks>
/// A model's anomaly map goes from its feature grid (e.g. 32×32) to the tile (e.g. 128×128) and is then blurred with
/// a 33-tap kernel: two passes over the large map per tap. Both steps are linear and act on rows and columns
/// separately, so their product is a small matrix per axis, and the whole step is two matrix products on the small map
/// (about a fifth of the time for 32→128 with σ = 4). The matrices are built once per input and output size, device
/// and dtype, and kept until disposal; thread-safe. Padim and Patchcore use it for their maps; custom models can too.
/// </remarks>
public sealed class BlurredResize : IDisposable
{
    private readonly double[] _kernel;
    private readonly InterpolationMode _mode;
    private readonly bool? _alignCorners;
    private readonly object _gate = new();
    private readonly Dictionary<
        (long InHeight, long InWidth, long OutHeight, long OutWidth, string Device, ScalarType Type),
        (Tensor Rows, Tensor ColumnsTransposed)
    > _operators = new();

    /// <summary>Creates the operator for <paramref name="sigma"/> and the interpolation
    /// <paramref name="mode"/>.</summary>
    /// <param name="sigma">The blur's σ (see <see cref="GaussianBlur.KernelSize"/>).</param>
    /// <param name="mode">Nearest or bilinear.</param>
    /// <param name="alignCorners">As <c>interpolate</c>'s <c>align_corners</c> (null for nearest).</param>
    public BlurredResize(double sigma, InterpolationMode mode, bool? alignCorners = null)
    {
        if (mode is not (InterpolationMode.Nearest or InterpolationMode.Bilinear))
        {
            throw new ArgumentException($"mode must be Nearest or Bilinear; got {mode}.", nameof(mode));
        }

        _kernel = GaussianBlur.Kernel1D(sigma);
        _mode = mode;
        _alignCorners = mode == InterpolationMode.Nearest ? null : alignCorners ?? false;
    }

    /// <summary>Resizes <paramref name="maps"/> [B, C, h, w] to [B, C, height, width] and blurs them.</summary>
    public Tensor Apply(Tensor maps, long height, long width)
    {
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, C, H, W]");
        TensorGuard.FloatingPoint(maps, nameof(maps));
        if (height <= 0 || width <= 0)
        {
            throw new ArgumentException($"The output size must be positive; got {height}x{width}.");
        }

        using var scope = NewDisposeScope();
        long b = maps.shape[0],
            c = maps.shape[1],
            h = maps.shape[2],
            w = maps.shape[3];
        var (rows, columnsTransposed) = Operator(h, w, height, width, maps.device, maps.dtype);
        var alongWidth = maps.reshape(b * c, h, w).matmul(columnsTransposed); // [BC, h, width]
        var result = rows.matmul(alongWidth); // [BC, height, width]
        return result.reshape(b, c, height, width).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Apply"/> as two ONNX matrix products with this operator's float32 matrices for the sizes given;
    /// returns the output's name.
    /// </summary>
    internal string Export(
        TiledEnsemble.Export.OnnxGraphBuilder g,
        string maps,
        long h,
        long w,
        long height,
        long width,
        string hint
    )
    {
        var (rows, columnsTransposed) = Operator(h, w, height, width, CPU, ScalarType.Float32);
        var alongWidth = g.MatMul(maps, g.Initializer($"{hint}.columns", columnsTransposed)); // [N, C, h, width]
        return g.MatMul(g.Initializer($"{hint}.rows", rows), alongWidth); // [N, C, height, width]
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (rows, columns) in _operators.Values)
            {
                rows.Dispose();
                columns.Dispose();
            }

            _operators.Clear();
        }
    }

    private (Tensor Rows, Tensor ColumnsTransposed) Operator(
        long h,
        long w,
        long height,
        long width,
        Device device,
        ScalarType type
    )
    {
        var key = (h, w, height, width, device.ToString(), type);
        lock (_gate)
        {
            if (_operators.TryGetValue(key, out var cached))
            {
                return cached;
            }

            // The same padding rule as GaussianBlur.Apply on the resized map: reflect unless either side is too small.
            int pad = _kernel.Length / 2;
            bool reflect = pad < height && pad < width;
            using var scope = NewDisposeScope();
            var rows = Combined(h, height, reflect, type).to(type, device).DetachFromDisposeScope();
            var columns = Combined(w, width, reflect, type).t().contiguous().to(type, device).DetachFromDisposeScope();
            _operators[key] = (rows, columns);
            return (rows, columns);
        }
    }

    /// <summary>Blur matrix [output, output] times resize matrix [output, input] of one axis, in float64.</summary>
    private Tensor Combined(long input, long output, bool reflect, ScalarType type)
    {
        using var scope = NewDisposeScope();
        var resize = ResizeMatrix(input, output, type).to_type(ScalarType.Float64);
        var weights = new double[output * output];
        int pad = _kernel.Length / 2;
        for (long o = 0; o < output; o++)
        {
            for (int t = 0; t < _kernel.Length; t++)
            {
                long source = SourceIndex(o + t - pad, output, reflect);
                weights[(o * output) + source] += _kernel[t];
            }
        }

        return tensor(weights, ScalarType.Float64).reshape(output, output).matmul(resize).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What <c>interpolate</c> does along one axis, read off by resizing the identity (the other axis keeps its size,
    /// which is exact), in the maps' dtype: bilinear weights are computed in it.
    /// </summary>
    private Tensor ResizeMatrix(long input, long output, ScalarType type) =>
        InterpolationMatrix(input, output, type, _mode, _alignCorners);

    /// <summary>
    /// What <c>interpolate</c> with <paramref name="mode"/> does along one axis from <paramref name="input"/> to
    /// <paramref name="output"/> values, as an [output, input] matrix read off by resizing the identity.
    /// </summary>
    internal static Tensor InterpolationMatrix(
        long input,
        long output,
        ScalarType type,
        InterpolationMode mode,
        bool? alignCorners
    )
    {
        using var scope = NewDisposeScope();
        var identity = eye(input, dtype: type is ScalarType.Float64 ? type : ScalarType.Float32)
            .reshape(1, 1, input, input);
        return F.interpolate(identity, new[] { output, input }, mode: mode, align_corners: alignCorners)[0, 0]
            .MoveToOuterDisposeScope();
    }

    private static long SourceIndex(long padded, long size, bool reflect)
    {
        if (!reflect)
        {
            return Math.Clamp(padded, 0, size - 1);
        }

        if (padded < 0)
        {
            return -padded;
        }

        return padded >= size ? (2 * (size - 1)) - padded : padded;
    }
}
