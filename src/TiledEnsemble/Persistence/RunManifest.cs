using System.Collections.Generic;
using System.Text.Json;
using TiledEnsemble.Configuration;

namespace TiledEnsemble.Persistence;

/// <summary>The manifest of a run directory (manifest.json): what was trained, with which settings, and the checksums
/// of every file.</summary>
internal sealed class RunManifest
{
    /// <summary>The format this library writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Format version.</summary>
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>Library version that wrote the run.</summary>
    public string LibraryVersion { get; set; } = string.Empty;

    /// <summary>SHA-256 of this file with this field empty; guards against edits and corruption.</summary>
    public string Checksum { get; set; } = string.Empty;

    /// <summary>The settings.</summary>
    public EnsembleSettings? Settings { get; set; }

    /// <summary>Identity of the training settings (a resumed run must match it).</summary>
    public string TrainingIdentity { get; set; } = string.Empty;

    /// <summary>Tile grid rows.</summary>
    public int Rows { get; set; }

    /// <summary>Tile grid columns.</summary>
    public int Columns { get; set; }

    /// <summary>The backbone weights file.</summary>
    public FileEntry? Backbone { get; set; }

    /// <summary>Where the backbone weights came from ("seed:N", "pretrained:…" or "file:…", with the file's name
    /// and checksum).</summary>
    public string BackboneSource { get; set; } = string.Empty;

    /// <summary>The weights file's own record of its origin (source package and version, hashes of what it was
    /// converted from).</summary>
    public Dictionary<string, string>? BackboneProvenance { get; set; }

    /// <summary>The training and validation data the run was trained on (the file list is in
    /// <c>data-fingerprint.json</c>).</summary>
    public DataFingerprint? Data { get; set; }

    /// <summary>Finished positions.</summary>
    public List<PositionEntry> Positions { get; set; } = new();

    /// <summary>
    /// The identity of every stage by role (tiler, joiner, seam_smoother, post_processor, model); null in runs written
    /// before stages were recorded, which used the default stages of their settings.
    /// </summary>
    public Dictionary<string, StageRecord>? Stages { get; set; }

    /// <summary>
    /// What the post-processor learned at the image level (the default's: its statistics), once all positions are
    /// trained; null when it does not process joined predictions.
    /// </summary>
    public JsonElement? ImageStatistics { get; set; }

    /// <summary>Whether every position and the image statistics are done.</summary>
    public bool Complete { get; set; }
}

/// <summary>A file of the run with its checksum.</summary>
internal sealed class FileEntry
{
    /// <summary>Path relative to the run directory.</summary>
    public string File { get; set; } = string.Empty;

    /// <summary>SHA-256, lower-case hex.</summary>
    public string Sha256 { get; set; } = string.Empty;
}

/// <summary>A trained tile position.</summary>
internal sealed class PositionEntry
{
    /// <summary>Grid row.</summary>
    public int Row { get; set; }

    /// <summary>Grid column.</summary>
    public int Column { get; set; }

    /// <summary>The model state file.</summary>
    public FileEntry State { get; set; } = new();

    /// <summary>What the post-processor learned for this position, when it processes positions.</summary>
    public JsonElement? Statistics { get; set; }
}

/// <summary>A stage's identity as a run records it.</summary>
internal sealed class StageRecord
{
    /// <summary>The stage's name.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Its settings.</summary>
    public Dictionary<string, string> Settings { get; set; } = new();

    public static StageRecord Of(StageIdentity identity) =>
        new() { Name = identity.Name, Settings = new(identity.Settings) };

    public StageIdentity ToIdentity() => new(Name, Settings);
}
