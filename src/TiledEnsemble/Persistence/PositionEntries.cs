using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace TiledEnsemble.Persistence;

/// <summary>
/// Each finished position's manifest entry as its own file beside its state (<c>positions/rI_cJ.json</c>, written after
/// the state, temp file then rename): workers on different machines never write the same file, and a present entry
/// means a complete state. Only the final step gathers them into <c>manifest.json</c>.
/// </summary>
internal static class PositionEntries
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string FileOf(int row, int column) => Path.Combine("positions", $"r{row}_c{column}.json");

    public static void Save(string runDirectory, PositionEntry entry) =>
        AtomicFile.WriteAllText(
            Path.Combine(runDirectory, FileOf(entry.Row, entry.Column)),
            JsonSerializer.Serialize(entry, Json)
        );

    /// <summary>Every entry file of the run (unreadable ones are reported by name).</summary>
    /// <exception cref="RunIntegrityException">An entry file is not valid JSON.</exception>
    public static List<PositionEntry> LoadAll(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, "positions");
        if (!Directory.Exists(folder))
        {
            return new List<PositionEntry>();
        }

        var entries = new List<PositionEntry>();
        foreach (var file in Directory.EnumerateFiles(folder, "r*_c*.json").OrderBy(f => f, StringComparer.Ordinal))
        {
            try
            {
                entries.Add(
                    JsonSerializer.Deserialize<PositionEntry>(File.ReadAllText(file))
                        ?? throw new JsonException("empty")
                );
            }
            catch (JsonException exception)
            {
                throw new RunIntegrityException(file, $"the position entry is not valid JSON ({exception.Message}).");
            }
        }

        return entries;
    }
}
