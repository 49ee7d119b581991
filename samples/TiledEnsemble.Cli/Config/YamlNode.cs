using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using YamlDotNet.RepresentationModel;

namespace TiledEnsemble.Cli.Config;

/// <summary>
/// A strict view of a YAML mapping: every key must be read or it is reported as unknown, and every value is checked
/// for its type. Errors name the full key path and the allowed values, so a typo is never silently ignored.
/// </summary>
internal sealed class YamlNode
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public YamlNode(YamlMappingNode node, string path)
    {
        _node = node;
        Path = path;
    }

    public string Path { get; }

    public bool Has(string key) => _node.Children.ContainsKey(new YamlScalarNode(key));

    public YamlNode? Mapping(string key)
    {
        var value = Get(key);
        return value switch
        {
            null => null,
            YamlMappingNode mapping => new YamlNode(mapping, Join(key)),
            YamlScalarNode { Value: null or "" or "null" or "~" } => null,
            _ => throw new ConfigException($"{Join(key)} must be a mapping (key: value pairs)."),
        };
    }

    public string? String(string key)
    {
        var value = Get(key);
        return value switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value is "null" or "~" ? null : scalar.Value,
            _ => throw new ConfigException($"{Join(key)} must be a single value."),
        };
    }

    public int? Int(string key) =>
        Parse<int>(
            key,
            s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null,
            "an integer"
        );

    public long? Long(string key) =>
        Parse<long>(
            key,
            s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null,
            "an integer"
        );

    public double? Double(string key) =>
        Parse<double>(
            key,
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null,
            "a number"
        );

    public bool? Bool(string key) =>
        Parse<bool>(
            key,
            s =>
                s.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" => true,
                    "false" or "no" or "off" => false,
                    _ => (bool?)null,
                },
            "true or false"
        );

    /// <summary>An integer or a [height, width] pair.</summary>
    public (int Height, int Width)? Size(string key)
    {
        var value = Get(key);
        switch (value)
        {
            case null:
                return null;
            case YamlScalarNode:
                var side = Int(key)!.Value;
                return (side, side);
            case YamlSequenceNode sequence
                when sequence.Children.Count == 2
                    && sequence.Children.All(c =>
                        c is YamlScalarNode s
                        && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                    ):
                var values = sequence
                    .Children.Select(c => int.Parse(((YamlScalarNode)c).Value!, CultureInfo.InvariantCulture))
                    .ToArray();
                return (values[0], values[1]);
            default:
                throw new ConfigException($"{Join(key)} must be an integer or a [height, width] pair.");
        }
    }

    public List<string>? Strings(string key)
    {
        var value = Get(key);
        return value switch
        {
            null => null,
            YamlSequenceNode sequence => sequence
                .Children.Select(c =>
                    c is YamlScalarNode s
                        ? s.Value ?? string.Empty
                        : throw new ConfigException($"{Join(key)} must be a list of values.")
                )
                .ToList(),
            _ => throw new ConfigException($"{Join(key)} must be a list, e.g. [a, b]."),
        };
    }

    /// <summary>A single value or a non-empty list of values, as a list.</summary>
    public List<string>? OneOrMany(string key)
    {
        var value = Get(key);
        var values = value switch
        {
            null => null,
            YamlScalarNode => String(key) is { } single ? new List<string> { single } : null,
            YamlSequenceNode => Strings(key),
            _ => throw new ConfigException($"{Join(key)} must be a value or a list of values, e.g. [a, b]."),
        };
        if (values is { Count: 0 })
        {
            throw new ConfigException($"{Join(key)} is an empty list; give at least one value.");
        }

        return values;
    }

    public IEnumerable<YamlNode> Mappings(string key)
    {
        var value = Get(key);
        if (value is null)
        {
            yield break;
        }

        if (value is not YamlSequenceNode sequence)
        {
            throw new ConfigException($"{Join(key)} must be a list.");
        }

        int index = 0;
        foreach (var child in sequence.Children)
        {
            yield return child is YamlMappingNode mapping
                ? new YamlNode(mapping, $"{Join(key)}[{index}]")
                : throw new ConfigException($"{Join(key)}[{index}] must be a mapping.");
            index++;
        }
    }

    /// <summary>An enumerated value, matched case-insensitively against <paramref name="allowed"/>.</summary>
    public string? Choice(string key, params string[] allowed)
    {
        var value = String(key);
        if (value is null)
        {
            return null;
        }

        var match = allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ConfigException($"{Join(key)} is '{value}'; allowed: {string.Join(", ", allowed)}.");
    }

    /// <summary>Throws for the first key that was never read (a typo or an unsupported setting).</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var key in _node.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? string.Empty))
        {
            if (!_read.Contains(key) && !known.Contains(key))
            {
                var all = _read.Concat(known).Distinct().OrderBy(k => k, StringComparer.Ordinal);
                throw new ConfigException($"Unknown key {Join(key)}; allowed here: {string.Join(", ", all)}.");
            }
        }
    }

    public string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private YamlDotNet.RepresentationModel.YamlNode? Get(string key)
    {
        _read.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    private T? Parse<T>(string key, Func<string, T?> parse, string what)
        where T : struct
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        return parse(text) ?? throw new ConfigException($"{Join(key)} must be {what}; got '{text}'.");
    }
}
