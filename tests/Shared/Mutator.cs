using System;
using System.Collections.Generic;
using System.Linq;

namespace TiledEnsemble.Testing;

/// <summary>
/// Seeded mutations of a valid file, as fuzzers make them: bit flips, random bytes, boundary values written over
/// length and size fields, truncation, duplicated and inserted runs. Each call applies one to three.
/// </summary>
internal sealed class Mutator
{
    private static readonly uint[] Boundaries =
    {
        0,
        1,
        0x7F,
        0x80,
        0xFF,
        0x7FFF,
        0xFFFF,
        0x7FFFFFFF,
        0x80000000,
        0xFFFFFFFF,
    };
    private readonly Random _random;

    public Mutator(int seed) => _random = new Random(seed);

    /// <summary>A mutated copy of <paramref name="source"/>; with <paramref name="focus"/> most changes fall in its
    /// first that many bytes (headers, where parsers decide what to allocate).</summary>
    public byte[] Mutate(byte[] source, int focus = int.MaxValue)
    {
        var bytes = new List<byte>(source);
        int operations = _random.Next(1, 4);
        for (int i = 0; i < operations && bytes.Count > 0; i++)
        {
            int limit = Math.Min(bytes.Count, _random.Next(4) == 0 ? int.MaxValue : focus);
            int at = _random.Next(limit);
            switch (_random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)_random.Next(256);
                    break;
                case 2:
                    var value = BitConverter.GetBytes(Boundaries[_random.Next(Boundaries.Length)]);
                    if (_random.Next(2) == 0)
                    {
                        Array.Reverse(value);
                    }

                    for (int k = 0; k < 4 && at + k < bytes.Count; k++)
                    {
                        bytes[at + k] = value[k];
                    }

                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    int length = Math.Min(_random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(_random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                default:
                    bytes.InsertRange(
                        at,
                        Enumerable.Range(0, _random.Next(1, 16)).Select(_ => (byte)_random.Next(256))
                    );
                    break;
            }
        }

        return bytes.ToArray();
    }

    /// <summary>A mutated copy of text, changed where text formats are fragile: structural characters, lines, and
    /// indentation.</summary>
    public string Mutate(string source)
    {
        const string Structure = ":-[]{}!&*#|>'\"%@`,?~ \t\n0123456789.eE+";
        var text = new System.Text.StringBuilder(source);
        int operations = _random.Next(1, 4);
        for (int i = 0; i < operations && text.Length > 0; i++)
        {
            int at = _random.Next(text.Length);
            switch (_random.Next(5))
            {
                case 0:
                    text[at] = Structure[_random.Next(Structure.Length)];
                    break;
                case 1:
                    text.Insert(at, Structure[_random.Next(Structure.Length)]);
                    break;
                case 2:
                    text.Remove(at, Math.Min(_random.Next(1, 12), text.Length - at));
                    break;
                case 3:
                    var lines = text.ToString().Split('\n').ToList();
                    int line = _random.Next(lines.Count);
                    lines.Insert(_random.Next(lines.Count), lines[line]);
                    text = new System.Text.StringBuilder(string.Join('\n', lines));
                    break;
                default:
                    text.Insert(at, new string(' ', _random.Next(1, 5)));
                    break;
            }
        }

        return text.ToString();
    }
}
