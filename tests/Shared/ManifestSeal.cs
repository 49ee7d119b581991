using System;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace TiledEnsemble.Testing;

/// <summary>Reseals an edited manifest as anyone can: its checksum is the SHA-256 of the text with the checksum field
/// blanked, so tests of what lies behind the checksum edit the text and recompute it.</summary>
internal static class ManifestSeal
{
    /// <summary>The text with its checksum field recomputed, when it still has one.</summary>
    public static string Reseal(string text)
    {
        var field = Regex.Match(text, "\"Checksum\": \"([0-9a-f]{64})\"");
        if (!field.Success)
        {
            return text;
        }

        var blanked = text.Remove(field.Index, field.Length).Insert(field.Index, "\"Checksum\": \"\"");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(blanked))).ToLowerInvariant();
        return text.Remove(field.Groups[1].Index, 64).Insert(field.Groups[1].Index, hash);
    }
}
