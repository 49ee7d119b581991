using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>An ONNX node: operator, inputs, outputs and the integer, float and list attributes.</summary>
internal sealed record OnnxNode(
    string Name,
    string OpType,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, long[]> Ints,
    IReadOnlyDictionary<string, float> Floats
)
{
    public long[] IntsOr(string attribute, params long[] fallback) =>
        Ints.TryGetValue(attribute, out var values) ? values : fallback;

    public string Describe() => $"node '{Name}' ({OpType})";
}

/// <summary>A float initializer of an ONNX graph.</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[] Data);

/// <summary>
/// The parts of an ONNX model that a convolutional network's weights need: nodes in graph order, float initializers,
/// graph inputs and outputs. Read from the protocol-buffer file directly (ModelProto → GraphProto).
/// </summary>
internal sealed class OnnxGraph
{
    private const int FloatType = 1;

    private OnnxGraph(
        List<OnnxNode> nodes,
        Dictionary<string, OnnxTensor> initializers,
        List<string> inputs,
        List<string> outputs,
        string producer
    )
    {
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        Producer = producer;
    }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The producer named in the model (e.g. "CNTK 2.6").</summary>
    public string Producer { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not an ONNX model this reader understands; the message names
    /// it.</exception>
    public static OnnxGraph Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes);
        }
        catch (Exception exception) when (exception is InvalidDataException or OverflowException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a readable ONNX model: {exception.Message}", exception);
        }
    }

    private static OnnxGraph Parse(ReadOnlySpan<byte> model)
    {
        var reader = new ProtobufReader(model);
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        string producer = string.Empty,
            version = string.Empty;
        bool sawGraph = false;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 7 && wire == 2)
            {
                sawGraph = true;
                ReadGraph(reader.ReadBytes(), nodes, initializers, inputs, outputs);
            }
            else if (field == 2 && wire == 2)
            {
                producer = reader.ReadString();
            }
            else if (field == 3 && wire == 2)
            {
                version = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (!sawGraph)
        {
            throw new InvalidDataException("no graph");
        }

        return new OnnxGraph(nodes, initializers, inputs, outputs, $"{producer} {version}".Trim());
    }

    private static void ReadGraph(
        ReadOnlySpan<byte> graph,
        List<OnnxNode> nodes,
        Dictionary<string, OnnxTensor> initializers,
        List<string> inputs,
        List<string> outputs
    )
    {
        var reader = new ProtobufReader(graph);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, 2):
                    nodes.Add(ReadNode(reader.ReadBytes()));
                    break;
                case (5, 2):
                    var tensor = ReadTensor(reader.ReadBytes());
                    if (tensor is not null)
                    {
                        initializers[tensor.Name] = tensor;
                    }

                    break;
                case (11, 2):
                    inputs.Add(ReadValueName(reader.ReadBytes()));
                    break;
                case (12, 2):
                    outputs.Add(ReadValueName(reader.ReadBytes()));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static OnnxNode ReadNode(ReadOnlySpan<byte> node)
    {
        var reader = new ProtobufReader(node);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var ints = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var floats = new Dictionary<string, float>(StringComparer.Ordinal);
        string name = string.Empty,
            op = string.Empty;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, 2):
                    inputs.Add(reader.ReadString());
                    break;
                case (2, 2):
                    outputs.Add(reader.ReadString());
                    break;
                case (3, 2):
                    name = reader.ReadString();
                    break;
                case (4, 2):
                    op = reader.ReadString();
                    break;
                case (5, 2):
                    ReadAttribute(reader.ReadBytes(), ints, floats);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OnnxNode(name, op, inputs, outputs, ints, floats);
    }

    private static void ReadAttribute(
        ReadOnlySpan<byte> attribute,
        Dictionary<string, long[]> ints,
        Dictionary<string, float> floats
    )
    {
        var reader = new ProtobufReader(attribute);
        string name = string.Empty;
        var values = new List<long>();
        float? value = null;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, 2):
                    name = reader.ReadString();
                    break;
                case (2, 5):
                    value = reader.ReadFloat();
                    break;
                case (3, 0):
                case (8, 0):
                    values.Add(reader.ReadInt64());
                    break;
                case (8, 2):
                    AddPacked(values, reader.ReadBytes());
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (values.Count > 0)
        {
            ints[name] = values.ToArray();
        }

        if (value is not null)
        {
            floats[name] = value.Value;
        }
    }

    /// <summary>A float tensor (raw little-endian bytes or packed floats); null for other element types.</summary>
    private static OnnxTensor? ReadTensor(ReadOnlySpan<byte> tensor)
    {
        var reader = new ProtobufReader(tensor);
        var dims = new List<long>();
        int type = 0;
        string name = string.Empty;
        float[]? data = null;
        var floats = new List<float>();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, 0):
                    dims.Add(reader.ReadInt64());
                    break;
                case (1, 2):
                    AddPacked(dims, reader.ReadBytes());
                    break;
                case (2, 0):
                    type = (int)reader.ReadVarint();
                    break;
                case (4, 2):
                    data = MemoryMarshal.Cast<byte, float>(reader.ReadBytes()).ToArray();
                    break;
                case (4, 5):
                    floats.Add(reader.ReadFloat());
                    break;
                case (8, 2):
                    name = reader.ReadString();
                    break;
                case (9, 2):
                    data = MemoryMarshal.Cast<byte, float>(reader.ReadBytes()).ToArray();
                    break;
                case (14, 0):
                    if (reader.ReadVarint() != 0)
                    {
                        throw new InvalidDataException(
                            $"initializer '{name}' is stored outside the file (external data), which is not supported"
                        );
                    }

                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (type != FloatType)
        {
            return null;
        }

        data ??= floats.ToArray();
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (data.Length != count)
        {
            throw new InvalidDataException(
                $"initializer '{name}' holds {data.Length} floats for shape [{string.Join(", ", dims)}] ({count})"
            );
        }

        return new OnnxTensor(name, dims.ToArray(), data);
    }

    /// <summary>The varints of a packed repeated field.</summary>
    private static void AddPacked(List<long> values, ReadOnlySpan<byte> packed)
    {
        var reader = new ProtobufReader(packed);
        while (!reader.AtEnd)
        {
            values.Add(reader.ReadInt64());
        }
    }

    private static string ReadValueName(ReadOnlySpan<byte> value)
    {
        var reader = new ProtobufReader(value);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                return reader.ReadString();
            }

            reader.Skip(wire);
        }

        return string.Empty;
    }
}
