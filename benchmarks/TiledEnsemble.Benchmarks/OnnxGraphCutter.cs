using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Cuts an ONNX model after one tensor and gives its input a dynamic shape: the peer graph of the backbone benchmark
/// (ResNet-18 up to layer3's last ReLU, any batch and size). Works on the protocol-buffer bytes: a graph keeps only the
/// nodes the target needs, their initializers, a new input <c>[N, C, H, W]</c> and the target as its only output.
/// </summary>
internal static class OnnxGraphCutter
{
    public static byte[] Cut(byte[] model, string output, int channels)
    {
        var result = new MemoryStream();
        foreach (var (field, wire, bytes) in Fields(model))
        {
            if (field == 7 && wire == 2)
            {
                Write(result, 7, CutGraph(bytes, output, channels));
            }
            else
            {
                WriteRaw(result, field, wire, bytes);
            }
        }

        return result.ToArray();
    }

    private static byte[] CutGraph(byte[] graph, string target, int channels)
    {
        var fields = Fields(graph).ToList();
        var nodes = fields
            .Where(f => f.Field == 1)
            .Select(f => (Bytes: f.Bytes, Inputs: Strings(f.Bytes, 1), Outputs: Strings(f.Bytes, 2)))
            .ToList();
        var producer = nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var needed = new HashSet<string>();
        var keep = new HashSet<byte[]>();
        var stack = new Stack<string>(new[] { target });
        while (stack.Count > 0)
        {
            var tensor = stack.Pop();
            if (!needed.Add(tensor) || !producer.TryGetValue(tensor, out var node))
            {
                continue;
            }

            keep.Add(node.Bytes);
            foreach (var input in node.Inputs)
            {
                stack.Push(input);
            }
        }

        var initializers = fields
            .Where(f => f.Field == 5)
            .ToDictionary(f => Strings(f.Bytes, 8).Single(), f => f.Bytes);
        var graphInput = fields
            .Where(f => f.Field == 11)
            .Select(f => Strings(f.Bytes, 1).Single())
            .First(n => !initializers.ContainsKey(n));
        var result = new MemoryStream();
        foreach (var (field, wire, bytes) in fields)
        {
            bool drop = field switch
            {
                1 => !keep.Contains(bytes),
                5 => !needed.Contains(Strings(bytes, 8).Single()),
                11 or 12 or 13 => true,
                _ => false,
            };
            if (!drop)
            {
                WriteRaw(result, field, wire, bytes);
            }
        }

        Write(result, 11, ValueInfo(graphInput, new object[] { "N", channels, "H", "W" }));
        Write(result, 12, ValueInfo(target, new object[] { "N", "C", "h", "w" }));
        return result.ToArray();
    }

    /// <summary>A float tensor's ValueInfoProto with named (symbolic) or fixed dimensions.</summary>
    private static byte[] ValueInfo(string name, object[] dims)
    {
        var shape = new MemoryStream();
        foreach (var dim in dims)
        {
            var d = new MemoryStream();
            if (dim is string symbol)
            {
                Write(d, 2, Encoding.UTF8.GetBytes(symbol));
            }
            else
            {
                WriteVarintField(d, 1, (ulong)(int)dim);
            }

            Write(shape, 1, d.ToArray());
        }

        var tensor = new MemoryStream();
        WriteVarintField(tensor, 1, 1); // FLOAT
        Write(tensor, 2, shape.ToArray());
        var type = new MemoryStream();
        Write(type, 1, tensor.ToArray());
        var info = new MemoryStream();
        Write(info, 1, Encoding.UTF8.GetBytes(name));
        Write(info, 2, type.ToArray());
        return info.ToArray();
    }

    private static List<string> Strings(byte[] message, int field) =>
        Fields(message)
            .Where(f => f.Field == field && f.Wire == 2)
            .Select(f => Encoding.UTF8.GetString(f.Bytes))
            .ToList();

    /// <summary>Top-level fields of a message: number, wire type and payload (length-delimited payloads without their
    /// length).</summary>
    private static IEnumerable<(int Field, int Wire, byte[] Bytes)> Fields(byte[] message)
    {
        int position = 0;
        while (position < message.Length)
        {
            ulong tag = Varint(message, ref position);
            int field = (int)(tag >> 3),
                wire = (int)(tag & 7);
            int start = position;
            switch (wire)
            {
                case 0:
                    Varint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    int length = (int)Varint(message, ref position);
                    start = position;
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire}");
            }

            yield return (field, wire, message[start..position]);
        }
    }

    private static ulong Varint(byte[] data, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private static void WriteRaw(Stream stream, int field, int wire, byte[] bytes)
    {
        WriteVarint(stream, ((ulong)field << 3) | (uint)wire);
        if (wire == 2)
        {
            WriteVarint(stream, (ulong)bytes.Length);
        }

        stream.Write(bytes);
    }

    private static void Write(Stream stream, int field, byte[] bytes) => WriteRaw(stream, field, 2, bytes);

    private static void WriteVarintField(Stream stream, int field, ulong value)
    {
        WriteVarint(stream, (ulong)field << 3);
        WriteVarint(stream, value);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
