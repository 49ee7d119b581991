using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TiledEnsemble.Data.Datasets;

namespace TiledEnsemble.Persistence;

/// <summary>One training or validation file as a run recorded it.</summary>
/// <param name="Split">"train" or "validation".</param>
/// <param name="Path">Path relative to the data's common folder (forward slashes).</param>
/// <param name="Label">The sample's label (and synthetic defect, if any).</param>
/// <param name="Bytes">File size.</param>
/// <param name="Sha256">SHA-256 of the image file (and of its mask file, when it has one).</param>
public sealed record DataFileRecord(string Split, string Path, string Label, long Bytes, string Sha256);

/// <summary>
/// What data a run was trained on: every training and validation file by relative path, size and content hash (in the
/// run's <c>data-fingerprint.json</c>), and one hash over the list (in the manifest). Content hashes, not modification
/// times: copying a data set (which changes times) is the same data, while an image edited in place is not; hashing the
/// files costs far less than decoding them, which training does anyway.
/// </summary>
public sealed class DataFingerprint
{
    /// <summary>The file in the run folder holding the list.</summary>
    public const string FileName = "data-fingerprint.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Training images.</summary>
    public int TrainCount { get; set; }

    /// <summary>Validation images.</summary>
    public int ValidationCount { get; set; }

    /// <summary>SHA-256 over the list of records.</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>Records the files of <paramref name="data"/>'s training and validation splits.</summary>
    internal static (DataFingerprint Summary, List<DataFileRecord> Files) Of(AnomalyDataModule data)
    {
        var samples = data
            .Train.Select(s => ("train", s))
            .Concat(data.Validation.Select(s => ("validation", s)))
            .ToList();
        var root = CommonFolder(samples.SelectMany(s => new[] { s.s.ImagePath, s.s.MaskPath }).OfType<string>());
        var files = samples
            .Select(s =>
            {
                var label = s.s.Synthetic is { } synthetic
                    ? $"{s.s.Label}:{synthetic.Kind}:{synthetic.AreaFraction}:{synthetic.Seed}"
                    : s.s.Label.ToString();
                var hash =
                    HashFile(s.s.ImagePath) + (s.s.MaskPath is null ? string.Empty : "+" + HashFile(s.s.MaskPath));
                return new DataFileRecord(
                    s.Item1,
                    Relative(root, s.s.ImagePath),
                    label,
                    new FileInfo(s.s.ImagePath).Length,
                    hash
                );
            })
            .ToList();
        var canonical = string.Join('\n', files.Select(f => $"{f.Split}|{f.Path}|{f.Label}|{f.Bytes}|{f.Sha256}"));
        var summary = new DataFingerprint
        {
            TrainCount = data.Train.Count,
            ValidationCount = data.Validation.Count,
            Sha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant(),
        };
        return (summary, files);
    }

    /// <summary>Writes the list to the run folder (temp file, then rename).</summary>
    internal static void Save(string runDirectory, IReadOnlyList<DataFileRecord> files) =>
        AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(files, Json));

    /// <summary>The list a run recorded, or null when it has none (runs written before fingerprints).</summary>
    internal static List<DataFileRecord>? Load(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<List<DataFileRecord>>(File.ReadAllText(path)) : null;
    }

    /// <summary>What differs between the recorded files and the current ones, in words; null when nothing
    /// does.</summary>
    internal static string? Differences(IReadOnlyList<DataFileRecord> recorded, IReadOnlyList<DataFileRecord> current)
    {
        var before = recorded.ToDictionary(r => (r.Split, r.Path));
        var now = current.ToDictionary(r => (r.Split, r.Path));
        var removed = before.Keys.Where(k => !now.ContainsKey(k)).ToList();
        var added = now.Keys.Where(k => !before.ContainsKey(k)).ToList();
        var changed = now
            .Keys.Where(k =>
                before.TryGetValue(k, out var old) && (old.Sha256 != now[k].Sha256 || old.Label != now[k].Label)
            )
            .ToList();
        if (removed.Count + added.Count + changed.Count == 0)
        {
            return null;
        }

        static string Part(string what, List<(string Split, string Path)> keys) =>
            keys.Count == 0 ? string.Empty : $"{keys.Count} {what} (first: {keys[0].Split} {keys[0].Path}); ";
        return (Part("removed", removed) + Part("added", added) + Part("changed", changed)).TrimEnd(' ', ';');
    }

    private static string HashFile(string path)
    {
        // Opening a FIFO blocks until a writer comes, and a device never ends: neither is an image.
        if (ConfinedFile.IsSpecial(Path.GetFullPath(path)) || ConfinedFile.IsSpecialTarget(path))
        {
            throw new IOException($"Data file '{path}' is not a regular file (a FIFO, device or socket).");
        }

        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static string CommonFolder(IEnumerable<string> paths)
    {
        string? common = null;
        foreach (var path in paths.Select(p => Path.GetDirectoryName(Path.GetFullPath(p)) ?? string.Empty))
        {
            common = common is null ? path : Common(common, path);
        }

        return common ?? string.Empty;
    }

    private static string Common(string a, string b)
    {
        var left = a.Split(Path.DirectorySeparatorChar);
        var right = b.Split(Path.DirectorySeparatorChar);
        int n = 0;
        while (n < left.Length && n < right.Length && left[n] == right[n])
        {
            n++;
        }

        return string.Join(Path.DirectorySeparatorChar, left.Take(n));
    }

    private static string Relative(string root, string path) =>
        Path.GetRelativePath(root, Path.GetFullPath(path)).Replace('\\', '/');
}

/// <summary>A run is being resumed on other training or validation data than it started with; nothing was
/// changed.</summary>
public sealed class DataChangedException : InvalidOperationException
{
    internal DataChangedException(string runDirectory, string differences)
        : base(
            $"The data changed since '{runDirectory}' started training: {differences}. Finished positions were "
                + $"trained on the old data, so resuming would mix models of two data sets. Restore the data, train "
                + $"into a new run folder, or resume anyway with FitOptions.AllowChangedData (--allow-changed-data)."
        )
    {
        Differences = differences;
    }

    /// <summary>What changed, in words.</summary>
    public string Differences { get; }
}
