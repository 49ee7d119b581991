using System.Linq;
using YamlDotNet.RepresentationModel;
using Node = YamlDotNet.RepresentationModel.YamlNode;

namespace TiledEnsemble.Cli.Config;

/// <summary>
/// What the strict reading of a config refuses before any setting is read: keys that are not plain scalars (a
/// complex key such as <c>? [a, b]</c>, or a key with a tag, which a lookup by name would never find and so would
/// silently ignore), and values with tags other than YAML's own (<c>!!str</c>, <c>!!int</c>…), which name types of
/// another program.
/// </summary>
internal static class YamlStrictness
{
    private const string StandardTags = "tag:yaml.org,2002:";

    public static void Check(Node node, string file) => Check(node, file, string.Empty);

    private static void Check(Node node, string file, string path)
    {
        var tag = node.Tag;
        if (!tag.IsEmpty && !tag.IsNonSpecific && !tag.Value.StartsWith(StandardTags, System.StringComparison.Ordinal))
        {
            throw new ConfigException(
                $"Config file '{file}': {Where(path)} has the tag '{node.Tag.Value}'; tags of other programs are not "
                    + "read (write the plain value)."
            );
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children.Select(c => (c.Key, c.Value)))
                {
                    if (key is not YamlScalarNode { Tag.IsEmpty: true } scalar)
                    {
                        string what = key is YamlScalarNode tagged
                            ? $"'{tagged.Value}' with the tag '{tagged.Tag.Value}'"
                            : "a complex key";
                        throw new ConfigException(
                            $"Config file '{file}': {Where(path)} has a key that is not a plain name ({what}); write "
                                + "keys as plain names."
                        );
                    }

                    Check(value, file, path.Length == 0 ? scalar.Value ?? string.Empty : $"{path}.{scalar.Value}");
                }

                break;
            case YamlSequenceNode sequence:
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    Check(sequence.Children[i], file, $"{path}[{i}]");
                }

                break;
        }
    }

    private static string Where(string path) => path.Length == 0 ? "the top level" : $"'{path}'";
}
