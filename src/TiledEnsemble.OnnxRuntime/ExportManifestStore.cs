using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TiledEnsemble.Deployment;

/// <summary>
/// Writes and reads an export's <c>manifest.json</c>, whose own SHA-256 is inside it (computed with that field empty),
/// and verifies the files it lists. Shared as source by the exporter and the ONNX Runtime predictor.
/// </summary>
internal static class ExportManifestStore
{
    private const string Placeholder = "\"Checksum\": \"\"";
    private static readonly Regex ChecksumField = new(
        "\"Checksum\": \"([0-9a-f]{64})\"",
        RegexOptions.CultureInvariant
    );
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The manifest's text with its checksum filled in.</summary>
    public static string Serialize(ExportManifest manifest)
    {
        manifest.Checksum = string.Empty;
        var text = JsonSerializer.Serialize(manifest, Json);
        int index = text.IndexOf(Placeholder, StringComparison.Ordinal);
        if (index < 0)
        {
            throw new InvalidOperationException(
                "The manifest serializer did not write the checksum field as expected."
            );
        }

        manifest.Checksum = Hash(Encoding.UTF8.GetBytes(text));
        return string.Concat(
            text.AsSpan(0, index),
            $"\"Checksum\": \"{manifest.Checksum}\"",
            text.AsSpan(index + Placeholder.Length)
        );
    }

    /// <summary>Reads and verifies a manifest; <paramref name="fail"/> makes the exception for a reason.</summary>
    public static ExportManifest Read(string directory, Func<string, string, Exception> fail)
    {
        var path = ConfinedFile.Resolve(directory, ExportManifest.FileName, fail);
        if (!File.Exists(path))
        {
            throw fail(path, "there is no export manifest; this is not an exported ensemble (tiled-ensemble export).");
        }

        var text = File.ReadAllText(path, Encoding.UTF8);
        if (JsonDuplicateKeys.Find(text) is { } duplicate)
        {
            throw fail(
                path,
                $"the manifest holds the key '{duplicate}' twice; a reader of the file and the library would disagree "
                    + "on its value."
            );
        }

        var match = ChecksumField.Match(text);
        if (!match.Success)
        {
            throw fail(path, "the manifest has no valid checksum field.");
        }

        var blanked = string.Concat(text.AsSpan(0, match.Index), Placeholder, text.AsSpan(match.Index + match.Length));
        if (Hash(Encoding.UTF8.GetBytes(blanked)) != match.Groups[1].Value)
        {
            throw fail(path, "the manifest's checksum does not match its content; the file was edited or is damaged.");
        }

        ExportManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ExportManifest>(text, Json);
        }
        catch (JsonException exception)
        {
            throw fail(path, $"the manifest is not valid: {exception.Message}");
        }

        if (manifest is null || manifest.FormatVersion != ExportManifest.CurrentFormatVersion)
        {
            throw fail(
                path,
                $"format version {manifest?.FormatVersion} is not supported (this library reads "
                    + $"{ExportManifest.CurrentFormatVersion})."
            );
        }

        return manifest;
    }

    /// <summary>The full path of a listed file after checking that it stays in the folder, exists and has its
    /// checksum.</summary>
    public static string Verify(string directory, ExportFile entry, Func<string, string, Exception> fail)
    {
        var path = ConfinedFile.Resolve(directory, entry.File, fail);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw fail(path, "the file listed in the manifest is missing.");
        }

        if (info.Length != entry.Bytes || HashFile(path) != entry.Sha256)
        {
            throw fail(
                path,
                "the file's SHA-256 or size differs from the manifest's; it was changed or is damaged. Refusing to "
                    + "use it."
            );
        }

        return path;
    }

    public static ExportFile Entry(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        return new ExportFile
        {
            File = file,
            Sha256 = HashFile(path),
            Bytes = new FileInfo(path).Length,
        };
    }

    private static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
