using System.Collections.Generic;

namespace TiledEnsemble.Deployment;

/// <summary>
/// The manifest of an exported ensemble (<c>manifest.json</c> beside <c>model.onnx</c>): what the graph takes and
/// gives, how it was made, and the checksum of every file. Written by the exporter, read by <c>DeployedEnsemble</c> and
/// by anyone running the graph with another ONNX runtime (docs/deploy.md).
/// </summary>
internal sealed class ExportManifest
{
    /// <summary>The format this library writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The manifest's file name.</summary>
    public const string FileName = "manifest.json";

    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>SHA-256 of this file with this field empty: detects damage (not tampering: anyone can recompute
    /// it).</summary>
    public string Checksum { get; set; } = string.Empty;

    public string LibraryVersion { get; set; } = string.Empty;

    /// <summary>The ONNX opset of the graph.</summary>
    public int Opset { get; set; }

    /// <summary>The graph file, relative to the folder.</summary>
    public ExportFile Model { get; set; } = new();

    /// <summary>The graph's external data file, when its initializers pass what one protocol buffer holds.</summary>
    public ExportFile? ExternalData { get; set; }

    /// <summary>The graph's inputs and outputs: name → element type and shape.</summary>
    public Dictionary<string, string> Inputs { get; set; } = new();

    public Dictionary<string, string> Outputs { get; set; } = new();

    /// <summary>The input's height and width: images are given at this size, RGB, values in [0, 1].</summary>
    public int ImageHeight { get; set; }

    public int ImageWidth { get; set; }

    /// <summary>The largest image side a predictor resizes from (larger inputs are refused).</summary>
    public int MaxInputSide { get; set; }

    /// <summary>Tile layout, model and stages, as the run recorded them.</summary>
    public string Tiling { get; set; } = string.Empty;

    public string ModelName { get; set; } = string.Empty;

    public Dictionary<string, string> Stages { get; set; } = new();

    /// <summary>How image scores are made from the positions and the map (the settings' aggregation).</summary>
    public string ImageScore { get; set; } = string.Empty;

    /// <summary>The thresholds on the scale of the outputs (null: per tile position).</summary>
    public double? ImageThreshold { get; set; }

    public double? PixelThreshold { get; set; }

    /// <summary>Whether <c>anomaly_map</c> and <c>score</c> are normalized (0 to 1, threshold at
    /// <see cref="ImageThreshold"/>).</summary>
    public bool Normalized { get; set; }

    /// <summary>Where the backbone weights came from, as the run recorded it.</summary>
    public string BackboneSource { get; set; } = string.Empty;

    /// <summary>The run the export was made from: its manifest's checksum.</summary>
    public string RunChecksum { get; set; } = string.Empty;
}

/// <summary>A file of an export with its checksum.</summary>
internal sealed class ExportFile
{
    public string File { get; set; } = string.Empty;

    public string Sha256 { get; set; } = string.Empty;

    public long Bytes { get; set; }
}
