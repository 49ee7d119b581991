using System;

namespace TiledEnsemble.Export;

/// <summary>What an export wrote.</summary>
/// <param name="Directory">The export folder.</param>
/// <param name="ModelBytes">Size of <c>model.onnx</c>.</param>
/// <param name="ExternalDataBytes">Size of <c>model.onnx.data</c>, 0 when the weights are inside the model.</param>
/// <param name="Positions">Tile positions in the graph.</param>
/// <param name="Duration">Wall time.</param>
public sealed record ExportResult(
    string Directory,
    long ModelBytes,
    long ExternalDataBytes,
    int Positions,
    TimeSpan Duration
);
