using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export.Onnx;
using static TiledEnsemble.Export.OnnxGraphBuilder;

namespace TiledEnsemble.Export;

/// <summary>The ONNX operators of opset 17 the exporter uses, as calls that return the name of their output.</summary>
internal static class OnnxOperators
{
    public static string Add(this OnnxGraphBuilder g, string a, string b) => g.Node("Add", new[] { a, b });

    public static string Sub(this OnnxGraphBuilder g, string a, string b) => g.Node("Sub", new[] { a, b });

    public static string Mul(this OnnxGraphBuilder g, string a, string b) => g.Node("Mul", new[] { a, b });

    public static string Div(this OnnxGraphBuilder g, string a, string b) => g.Node("Div", new[] { a, b });

    public static string MatMul(this OnnxGraphBuilder g, string a, string b) => g.Node("MatMul", new[] { a, b });

    public static string Max(this OnnxGraphBuilder g, params string[] values) => g.Node("Max", values);

    public static string Min(this OnnxGraphBuilder g, params string[] values) => g.Node("Min", values);

    public static string Sum(this OnnxGraphBuilder g, IReadOnlyList<string> values) => g.Node("Sum", values);

    public static string Unary(this OnnxGraphBuilder g, string op, string x) => g.Node(op, new[] { x });

    public static string Relu(this OnnxGraphBuilder g, string x) => g.Node("Relu", new[] { x });

    public static string Sqrt(this OnnxGraphBuilder g, string x) => g.Node("Sqrt", new[] { x });

    public static string Where(this OnnxGraphBuilder g, string condition, string a, string b) =>
        g.Node("Where", new[] { condition, a, b });

    public static string GreaterOrEqual(this OnnxGraphBuilder g, string a, string b) =>
        g.Node("GreaterOrEqual", new[] { a, b });

    public static string Cast(this OnnxGraphBuilder g, string x, TensorProto.Types.DataType to) =>
        g.Node("Cast", new[] { x }, attributes: AttrInt("to", (long)to));

    /// <summary>min ≤ x ≤ max; either bound may be null.</summary>
    public static string Clip(this OnnxGraphBuilder g, string x, string? min, string? max) =>
        g.Node("Clip", new[] { x, min ?? string.Empty, max ?? string.Empty });

    public static string Transpose(this OnnxGraphBuilder g, string x, params long[] permutation) =>
        g.Node("Transpose", new[] { x }, attributes: AttrInts("perm", permutation));

    /// <summary>Reshape to <paramref name="shape"/> (0 keeps a dimension, −1 infers one).</summary>
    public static string Reshape(this OnnxGraphBuilder g, string x, params long[] shape) =>
        g.Node("Reshape", new[] { x, g.Ints("shape", shape) });

    public static string Concat(this OnnxGraphBuilder g, long axis, IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : g.Node("Concat", values, attributes: AttrInt("axis", axis));

    public static string Gather(this OnnxGraphBuilder g, string x, string indices, long axis) =>
        g.Node("Gather", new[] { x, indices }, attributes: AttrInt("axis", axis));

    public static string GatherElements(this OnnxGraphBuilder g, string x, string indices, long axis) =>
        g.Node("GatherElements", new[] { x, indices }, attributes: AttrInt("axis", axis));

    public static string Unsqueeze(this OnnxGraphBuilder g, string x, params long[] axes) =>
        g.Node("Unsqueeze", new[] { x, g.Ints("axes", axes) });

    public static string Squeeze(this OnnxGraphBuilder g, string x, params long[] axes) =>
        g.Node("Squeeze", new[] { x, g.Ints("axes", axes) });

    /// <summary>Elements <c>[start, end)</c> along each of <paramref name="axes"/>.</summary>
    public static string Slice(this OnnxGraphBuilder g, string x, long[] starts, long[] ends, long[] axes) =>
        g.Node("Slice", new[] { x, g.Ints("starts", starts), g.Ints("ends", ends), g.Ints("axes", axes) });

    /// <summary>Pads (ONNX order: all begins, then all ends) with zeros, or in a mode ("reflect", "edge").</summary>
    public static string Pad(this OnnxGraphBuilder g, string x, long[] pads, string mode = "constant") =>
        g.Node("Pad", new[] { x, g.Ints("pads", pads) }, attributes: AttrText("mode", mode));

    /// <summary>ReduceSum over <paramref name="axes"/> (axes as an input since opset 13).</summary>
    public static string ReduceSum(this OnnxGraphBuilder g, string x, bool keepDims, params long[] axes) =>
        g.Node("ReduceSum", new[] { x, g.Ints("axes", axes) }, attributes: AttrInt("keepdims", keepDims ? 1 : 0));

    /// <summary>ReduceMax, ReduceMin, ReduceMean, ReduceL2 (axes as an attribute up to opset 17).</summary>
    public static string Reduce(this OnnxGraphBuilder g, string op, string x, bool keepDims, params long[] axes) =>
        g.Node(op, new[] { x }, attributes: new[] { AttrInts("axes", axes), AttrInt("keepdims", keepDims ? 1 : 0) });

    public static string ArgExtreme(this OnnxGraphBuilder g, string op, string x, long axis, bool keepDims) =>
        g.Node(op, new[] { x }, attributes: new[] { AttrInt("axis", axis), AttrInt("keepdims", keepDims ? 1 : 0) });

    /// <summary>Values and indices of the <paramref name="k"/> largest (or smallest) along
    /// <paramref name="axis"/>.</summary>
    public static (string Values, string Indices) TopK(
        this OnnxGraphBuilder g,
        string x,
        long k,
        long axis,
        bool largest
    )
    {
        var outputs = g.Nodes(
            "TopK",
            new[] { x, g.Ints("k", k) },
            2,
            attributes: new[] { AttrInt("axis", axis), AttrInt("largest", largest ? 1 : 0), AttrInt("sorted", 1) }
        );
        return (outputs[0], outputs[1]);
    }

    public static string Softmax(this OnnxGraphBuilder g, string x, long axis) =>
        g.Node("Softmax", new[] { x }, attributes: AttrInt("axis", axis));

    /// <summary>A 2-D convolution with NCHW weights.</summary>
    public static string Conv(
        this OnnxGraphBuilder g,
        string x,
        string weight,
        string? bias,
        long kernel,
        long stride = 1,
        long padding = 0,
        long dilation = 1,
        long groups = 1
    )
    {
        var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
        return g.Node(
            "Conv",
            inputs,
            attributes: new[]
            {
                AttrInts("kernel_shape", kernel, kernel),
                AttrInts("strides", stride, stride),
                AttrInts("pads", padding, padding, padding, padding),
                AttrInts("dilations", dilation, dilation),
                AttrInt("group", groups),
            }
        );
    }

    /// <summary>A single-channel convolution with a <paramref name="kernelHeight"/> × <paramref name="kernelWidth"/>
    /// kernel, no padding.</summary>
    public static string ConvKernel(
        this OnnxGraphBuilder g,
        string x,
        string weight,
        long kernelHeight,
        long kernelWidth
    ) => g.Node("Conv", new[] { x, weight }, attributes: AttrInts("kernel_shape", kernelHeight, kernelWidth));

    public static string MaxPool(this OnnxGraphBuilder g, string x, long kernel, long stride, long padding) =>
        g.Node(
            "MaxPool",
            new[] { x },
            attributes: new[]
            {
                AttrInts("kernel_shape", kernel, kernel),
                AttrInts("strides", stride, stride),
                AttrInts("pads", padding, padding, padding, padding),
            }
        );

    /// <summary>Average pooling that counts padded zeros, as <c>avg_pool2d</c>'s default.</summary>
    public static string AveragePool(this OnnxGraphBuilder g, string x, long kernel, long stride, long padding) =>
        g.Node(
            "AveragePool",
            new[] { x },
            attributes: new[]
            {
                AttrInts("kernel_shape", kernel, kernel),
                AttrInts("strides", stride, stride),
                AttrInts("pads", padding, padding, padding, padding),
                AttrInt("count_include_pad", 1),
            }
        );

    /// <summary>Nearest upsampling by whole factors (each source pixel repeated), as libtorch's nearest mode
    /// does.</summary>
    public static string UpsampleNearest(this OnnxGraphBuilder g, string x, long factorHeight, long factorWidth) =>
        g.Node(
            "Resize",
            new[] { x, string.Empty, g.Initializer("scales", new[] { 1f, 1f, factorHeight, factorWidth }, 4) },
            attributes: new[]
            {
                AttrText("mode", "nearest"),
                AttrText("coordinate_transformation_mode", "asymmetric"),
                AttrText("nearest_mode", "floor"),
            }
        );

    /// <summary>
    /// Bilinear resizing of [N, C, h, w] to [N, C, height, width] as libtorch's <c>interpolate</c> computes it
    /// (align_corners as given): two matrix products with its interpolation matrices.
    /// </summary>
    public static string ResizeBilinear(
        this OnnxGraphBuilder g,
        string x,
        long h,
        long w,
        long height,
        long width,
        string hint,
        bool alignCorners = false
    )
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var rows = Imaging.BlurredResize.InterpolationMatrix(
            h,
            height,
            TorchSharp.torch.ScalarType.Float32,
            TorchSharp.torch.InterpolationMode.Bilinear,
            alignCorners
        );
        var columns = Imaging.BlurredResize.InterpolationMatrix(
            w,
            width,
            TorchSharp.torch.ScalarType.Float32,
            TorchSharp.torch.InterpolationMode.Bilinear,
            alignCorners
        );
        var alongWidth = g.MatMul(x, g.Initializer($"{hint}.columns", columns.t()));
        return g.MatMul(g.Initializer($"{hint}.rows", rows), alongWidth);
    }

    public static string Constant(this OnnxGraphBuilder g, string hint, float value) => g.Scalar(hint, value);
}
