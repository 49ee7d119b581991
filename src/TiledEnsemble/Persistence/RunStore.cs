using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using TiledEnsemble.Models;
using TiledEnsemble.Serialization;

namespace TiledEnsemble.Persistence;

/// <summary>Reads and writes run directories: the checksummed manifest and the safetensors files it lists.</summary>
internal static class RunStore
{
    public const string ManifestFile = "manifest.json";
    private const string ChecksumPlaceholder = "\"Checksum\": \"\"";
    private static readonly Regex ChecksumField = new(
        "\"Checksum\": \"([0-9a-f]{64})\"",
        RegexOptions.CultureInvariant
    );

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string LibraryVersion => typeof(RunStore).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Writes the manifest atomically, with its own checksum inside.</summary>
    public static void WriteManifest(string directory, RunManifest manifest) =>
        WriteManifest(directory, manifest, overwrite: true);

    /// <summary>
    /// Writes the manifest only if the folder has none yet (the first of several workers creating one run wins);
    /// false when another was there.
    /// </summary>
    public static bool CreateManifest(string directory, RunManifest manifest)
    {
        try
        {
            WriteManifest(directory, manifest, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, ManifestFile)))
        {
            return false;
        }
    }

    /// <summary>
    /// Moves a finished temporary file to <paramref name="path"/> unless a file is there already; then the two must be
    /// equal (workers creating one run write identical files), else <see cref="RunIntegrityException"/>.
    /// </summary>
    public static void PlaceOnce(string temporary, string path)
    {
        try
        {
            File.Move(temporary, path, overwrite: false);
            return;
        }
        catch (IOException) when (File.Exists(path))
        {
            var mine = HashFile(temporary);
            File.Delete(temporary);
            if (HashFile(path) != mine)
            {
                throw new RunIntegrityException(
                    path,
                    "another worker created this run with a different file; the workers' settings, weights or data "
                        + "differ."
                );
            }
        }
    }

    private static void WriteManifest(string directory, RunManifest manifest, bool overwrite)
    {
        manifest.Checksum = string.Empty;
        var text = JsonSerializer.Serialize(manifest, Json);
        if (!text.Contains(ChecksumPlaceholder, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                "The manifest serializer did not write the checksum field as expected."
            );
        }

        var hash = Hash(Encoding.UTF8.GetBytes(text));
        var index = text.IndexOf(ChecksumPlaceholder, StringComparison.Ordinal);
        var final = string.Concat(
            text.AsSpan(0, index),
            $"\"Checksum\": \"{hash}\"",
            text.AsSpan(index + ChecksumPlaceholder.Length)
        );
        manifest.Checksum = hash;
        AtomicFile.WriteAllBytes(Path.Combine(directory, ManifestFile), Encoding.UTF8.GetBytes(final), overwrite);
    }

    /// <summary>Reads and verifies the manifest.</summary>
    /// <exception cref="RunIntegrityException">Missing, edited, corrupt or of an unknown format version.</exception>
    public static RunManifest ReadManifest(string directory)
    {
        var path = ConfinedFile.Resolve(directory, ManifestFile, Fail);

        // The folders the library writes into must lie in the run too: a link would send evaluation or export output
        // elsewhere.
        ConfinedFile.RequireNoLinks(directory, Fail, "positions", "evaluation", "export", "claims", "images");
        if (!File.Exists(path))
        {
            throw new RunIntegrityException(
                path,
                "the manifest does not exist; this is not a run directory, or its training never finished a position."
            );
        }

        var text = File.ReadAllText(path, Encoding.UTF8);
        if (JsonDuplicateKeys.Find(text) is { } duplicate)
        {
            throw new RunIntegrityException(
                path,
                $"the manifest holds the key '{duplicate}' twice; a reader of the file and the library would disagree "
                    + "on its value."
            );
        }

        var match = ChecksumField.Match(text);
        if (!match.Success)
        {
            throw new RunIntegrityException(path, "the manifest has no valid checksum field.");
        }

        var blanked = string.Concat(
            text.AsSpan(0, match.Index),
            ChecksumPlaceholder,
            text.AsSpan(match.Index + match.Length)
        );
        if (Hash(Encoding.UTF8.GetBytes(blanked)) != match.Groups[1].Value)
        {
            throw new RunIntegrityException(
                path,
                "the manifest's checksum does not match its content; the file was edited or is corrupt."
            );
        }

        RunManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<RunManifest>(text, Json);
        }
        catch (JsonException exception)
        {
            throw new RunIntegrityException(path, $"the manifest is not valid: {exception.Message}");
        }

        if (manifest is null || manifest.Settings is null)
        {
            throw new RunIntegrityException(path, "the manifest has no settings.");
        }

        if (manifest.FormatVersion != RunManifest.CurrentFormatVersion)
        {
            throw new RunIntegrityException(
                path,
                $"format version {manifest.FormatVersion} is not supported by this library (version {LibraryVersion} "
                    + $"reads format {RunManifest.CurrentFormatVersion})."
            );
        }

        return manifest;
    }

    /// <summary>Saves a model state as safetensors and returns its entry.</summary>
    public static FileEntry SaveState(string directory, string relative, ModelState state)
    {
        var path = Path.Combine(directory, relative);
        SafeTensors.Save(path, state.Tensors, state.Metadata);
        return new FileEntry { File = relative, Sha256 = HashFile(path) };
    }

    /// <summary>Verifies the checksum of a listed file and loads it as a model state.</summary>
    public static ModelState LoadState(string directory, FileEntry entry)
    {
        var path = Verify(directory, entry);
        var (tensors, metadata) = SafeTensors.Load(path);
        try
        {
            SafeTensors.RequireFinite(path, tensors);
        }
        catch
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return new ModelState(tensors, metadata);
    }

    /// <summary>
    /// Checks, without reading them, that every file the manifest lists lies in the folder, is no link or special
    /// file, and exists: a crafted run is refused when it is opened, before a command writes anything, rather than when
    /// a position is first needed.
    /// </summary>
    public static void CheckEntries(string directory, RunManifest manifest)
    {
        var entries = manifest.Positions.Select(p => p.State).Prepend(manifest.Backbone).OfType<FileEntry>();
        foreach (var entry in entries)
        {
            var path = ConfinedFile.Resolve(directory, entry.File, Fail);
            if (!File.Exists(path))
            {
                throw Missing(path);
            }
        }
    }

    /// <summary>Checks that a listed file exists and has its recorded checksum; returns its full path.</summary>
    public static string Verify(string directory, FileEntry entry)
    {
        var path = ConfinedFile.Resolve(directory, entry.File, Fail);
        if (!File.Exists(path))
        {
            throw Missing(path);
        }

        var actual = HashFile(path);
        if (!string.Equals(actual, entry.Sha256, StringComparison.Ordinal))
        {
            throw new RunIntegrityException(
                path,
                $"SHA-256 is {actual} but the manifest records {entry.Sha256}; the file was changed or is corrupt. "
                    + $"Refusing to use it."
            );
        }

        return path;
    }

    /// <summary>A post-processor's state (JSON text) as the manifest stores it; null stays null.</summary>
    /// <exception cref="InvalidOperationException">The state is not JSON.</exception>
    public static JsonElement? StateElement(string? state)
    {
        if (state is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(state);
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException(
                $"A post-processor's state must be JSON; it is not ({exception.Message}).",
                exception
            );
        }
    }

    /// <summary>The stages a run recorded, or null for runs written before stages were recorded.</summary>
    public static IReadOnlyDictionary<string, StageIdentity>? Stages(RunManifest manifest) =>
        manifest.Stages?.ToDictionary(s => s.Key, s => s.Value.ToIdentity());

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private static RunIntegrityException Fail(string path, string reason) => new(path, reason);

    private static RunIntegrityException Missing(string path) =>
        new(path, "the file listed in the manifest is missing.");
}
