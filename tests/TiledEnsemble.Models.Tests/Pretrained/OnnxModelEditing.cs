using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TiledEnsemble.Models.Tests.Pretrained;

/// <summary>
/// Makes intermediate tensors of an ONNX model graph outputs, so ONNX Runtime returns them: protocol buffers merge a
/// repeated embedded message field that appears twice, so appending a second <c>graph</c> (field 7) holding only
/// <c>output</c> entries (field 12, ValueInfoProto with a name) adds those outputs to the model's graph.
/// </summary>
internal static class OnnxModelEditing
{
    public static byte[] WithOutputs(byte[] model, IEnumerable<string> names)
    {
        var graph = new MemoryStream();
        foreach (var name in names)
        {
            var valueInfo = new MemoryStream();
            WriteField(valueInfo, 1, Encoding.UTF8.GetBytes(name));
            WriteField(graph, 12, valueInfo.ToArray());
        }

        var result = new MemoryStream();
        result.Write(model);
        WriteField(result, 7, graph.ToArray());
        return result.ToArray();
    }

    private static void WriteField(Stream stream, int field, byte[] payload)
    {
        WriteVarint(stream, ((ulong)field << 3) | 2);
        WriteVarint(stream, (ulong)payload.Length);
        stream.Write(payload);
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
