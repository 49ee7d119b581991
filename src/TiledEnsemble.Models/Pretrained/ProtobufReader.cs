using System;
using System.IO;
using System.Text;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>
/// Reads protocol-buffer wire format (varints, length-delimited fields, fixed 32/64-bit values) from a byte span: the
/// little the ONNX reader needs, without generated code.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtobufReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public bool AtEnd => _position >= _data.Length;

    /// <summary>The next field's number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        if (field <= 0)
        {
            throw new InvalidDataException($"Invalid protobuf field number {field} at byte {_position}.");
        }

        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new InvalidDataException("Truncated protobuf varint.");
            }

            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("Malformed protobuf varint (more than 10 bytes).");
    }

    public long ReadInt64() => (long)ReadVarint();

    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed(4));

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw new InvalidDataException(
                $"Protobuf field of {length} bytes runs past the end of its message ({_data.Length - _position} left)."
            );
        }

        var bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        return bytes;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>Skips a field of <paramref name="wireType"/>.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                ReadFixed(8);
                break;
            case 2:
                ReadBytes();
                break;
            case 5:
                ReadFixed(4);
                break;
            default:
                throw new InvalidDataException($"Unsupported protobuf wire type {wireType}.");
        }
    }

    private ulong ReadFixed(int size)
    {
        if (_position + size > _data.Length)
        {
            throw new InvalidDataException("Truncated protobuf fixed-size value.");
        }

        ulong value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (ulong)_data[_position + i] << (8 * i);
        }

        _position += size;
        return value;
    }
}
