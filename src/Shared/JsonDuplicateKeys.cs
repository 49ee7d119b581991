using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace TiledEnsemble;

/// <summary>
/// Finds a key that an object of a JSON document holds twice. System.Text.Json keeps the last of them silently, so a
/// manifest with two "Checksum" or two "Settings" fields would say one thing to a reader of the file and another to the
/// library: such files are refused instead.
/// </summary>
internal static class JsonDuplicateKeys
{
    /// <summary>The path of the first key held twice by one object (e.g. <c>$.Settings.ImageSize</c>), or null; null
    /// also for malformed JSON, which the deserializer then reports.</summary>
    public static string? Find(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));

        // One frame per open container: its path, and its keys when it is an object (null for an array).
        var frames = new Stack<(string Path, HashSet<string>? Keys)>();
        string? key = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        string path =
                            frames.Count == 0 ? "$"
                            : key is not null ? $"{frames.Peek().Path}.{key}"
                            : $"{frames.Peek().Path}[]";
                        bool isObject = reader.TokenType == JsonTokenType.StartObject;
                        frames.Push((path, isObject ? new HashSet<string>(StringComparer.Ordinal) : null));
                        key = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.Pop();
                        key = null;
                        break;
                    case JsonTokenType.PropertyName:
                        key = reader.GetString()!;
                        var (where, keys) = frames.Peek();
                        if (!keys!.Add(key))
                        {
                            return $"{where}.{key}";
                        }

                        break;
                    default:
                        key = null;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }
}
