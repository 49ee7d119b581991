using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using TiledEnsemble.Export.Onnx;
using static TorchSharp.torch;

namespace TiledEnsemble.Export;

/// <summary>
/// Builds one ONNX graph: typed inputs and outputs, initializers from tensors or arrays, and nodes whose outputs get
/// unique names. Every helper returns the name of the value it made, so graphs read as the computation they hold.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "tiled_ensemble" };
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
    private readonly System.IO.Stream? _externalData;
    private readonly string? _externalLocation;

    /// <summary>A builder that keeps every initializer inside the model.</summary>
    public OnnxGraphBuilder() { }

    /// <summary>
    /// A builder that writes initializers of <see cref="ExternalThresholdBytes"/> or more to
    /// <paramref name="externalData"/> as they are added (the model then names <paramref name="location"/>, a file
    /// beside it): for graphs beyond protocol buffers' 2 GB.
    /// </summary>
    public OnnxGraphBuilder(System.IO.Stream externalData, string location)
    {
        _externalData = externalData;
        _externalLocation = location;
    }

    /// <summary>Initializers at least this large go to the external data file, when there is one.</summary>
    public const int ExternalThresholdBytes = 1024;

    /// <summary>Whether initializers go to an external data file.</summary>
    public bool HasExternalData => _externalData is not null;

    /// <summary>Total bytes of the initializers so far.</summary>
    public long InitializerBytes { get; private set; }

    public GraphProto Graph => _graph;

    /// <summary>The ONNX opset of every graph the library writes: the newest that Debian's checker knows.</summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with <see cref="Opset"/>.</summary>
    public const long IrVersion = 8;

    /// <summary>A model holding this graph, at <see cref="IrVersion"/> and <see cref="Opset"/>.</summary>
    public ModelProto ToModel(string producer)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = producer,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return model;
    }

    /// <summary>A graph input; a dimension given as a string is symbolic (e.g. "batch").</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dimensions)
    {
        _graph.Input.Add(ValueInfo(name, type, dimensions));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a graph output under <paramref name="name"/>.</summary>
    public void Output(string value, string name, TensorProto.Types.DataType type, params object[] dimensions)
    {
        string output = value == name ? value : Node("Identity", new[] { value }, name: name);
        _graph.Output.Add(ValueInfo(output, type, dimensions));
    }

    /// <summary>A float32 initializer holding <paramref name="tensor"/>'s values (copied to the CPU).</summary>
    public string Initializer(string hint, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.to_type(ScalarType.Float32).cpu().contiguous();
        return Initializer(hint, values.data<float>().ToArray(), values.shape);
    }

    /// <summary>A float32 initializer.</summary>
    public string Initializer(string hint, float[] values, params long[] dimensions)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Add(hint, TensorProto.Types.DataType.Float, bytes, dimensions);
    }

    /// <summary>An int64 initializer (shapes, indices, axes).</summary>
    public string Ints(string hint, params long[] values) => Ints(hint, values, values.Length);

    /// <summary>An int64 initializer of the given shape.</summary>
    public string Ints(string hint, long[] values, params long[] dimensions)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Add(hint, TensorProto.Types.DataType.Int64, bytes, dimensions);
    }

    /// <summary>A 0-d int64 initializer: an index that Gather removes the axis of.</summary>
    public string ScalarIndex(string hint, long value) => Ints(hint, new[] { value }, Array.Empty<long>());

    /// <summary>A scalar float32 initializer.</summary>
    public string Scalar(string hint, float value) => Initializer(hint, new[] { value });

    /// <summary>A boolean initializer.</summary>
    public string Bools(string hint, bool[] values, params long[] dimensions) =>
        Add(hint, TensorProto.Types.DataType.Bool, values.Select(v => v ? (byte)1 : (byte)0).ToArray(), dimensions);

    /// <summary>A node with one output; returns the output's name.</summary>
    public string Node(
        string op,
        IReadOnlyList<string> inputs,
        string? name = null,
        params AttributeProto[] attributes
    ) => Nodes(op, inputs, 1, name, attributes)[0];

    /// <summary>A node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Nodes(
        string op,
        IReadOnlyList<string> inputs,
        int outputs,
        string? name = null,
        params AttributeProto[] attributes
    )
    {
        var stem = Unique(name ?? op.ToLowerInvariant());
        var names = outputs == 1 ? new[] { stem } : Enumerable.Range(0, outputs).Select(i => $"{stem}:{i}").ToArray();
        var node = new NodeProto { OpType = op, Name = stem };
        node.Input.AddRange(inputs);
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    public static AttributeProto AttrInt(string name, long value) =>
        new()
        {
            Name = name,
            Type = AttributeProto.Types.AttributeType.Int,
            I = value,
        };

    public static AttributeProto AttrFloat(string name, float value) =>
        new()
        {
            Name = name,
            Type = AttributeProto.Types.AttributeType.Float,
            F = value,
        };

    public static AttributeProto AttrText(string name, string value) =>
        new()
        {
            Name = name,
            Type = AttributeProto.Types.AttributeType.String,
            S = ByteString.CopyFromUtf8(value),
        };

    public static AttributeProto AttrInts(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private string Add(string hint, TensorProto.Types.DataType type, byte[] bytes, long[] dimensions)
    {
        var name = Unique(hint);
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dimensions);
        if (_externalData is not null && bytes.Length >= ExternalThresholdBytes)
        {
            var culture = System.Globalization.CultureInfo.InvariantCulture;
            long offset = _externalData.Position;
            _externalData.Write(bytes);
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(StringStringEntry("location", _externalLocation!));
            tensor.ExternalData.Add(StringStringEntry("offset", offset.ToString(culture)));
            tensor.ExternalData.Add(StringStringEntry("length", bytes.Length.ToString(culture)));
        }
        else
        {
            tensor.RawData = ByteString.CopyFrom(bytes);
        }

        _graph.Initializer.Add(tensor);
        InitializerBytes += bytes.Length;
        return name;
    }

    private static StringStringEntryProto StringStringEntry(string key, string value) =>
        new() { Key = key, Value = value };

    private string Unique(string hint)
    {
        int count = _names.TryGetValue(hint, out var seen) ? seen + 1 : 0;
        _names[hint] = count;
        return count == 0 ? hint : $"{hint}_{count}";
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dimensions)
    {
        var shape = new TensorShapeProto();
        foreach (var dimension in dimensions)
        {
            shape.Dim.Add(
                dimension switch
                {
                    string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                    int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                    long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                    _ => throw new ArgumentException($"A dimension is a number or a symbol; got {dimension}."),
                }
            );
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape },
            },
        };
    }
}
