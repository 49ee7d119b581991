using System.Collections.Generic;
using TiledEnsemble.Export;

namespace TiledEnsemble.Models;

/// <summary>
/// A model that can write its prediction of one tile position into an ONNX graph, so that an exported ensemble
/// computes what the model's <see cref="IAnomalyModel.Predict"/> computes.
/// </summary>
internal interface IOnnxExportable
{
    /// <summary>The backbone layers the prediction needs (the export computes them once for every position).</summary>
    IReadOnlyList<string> ExportLayers { get; }

    /// <summary>Writes the prediction of one position.</summary>
    /// <param name="g">The graph.</param>
    /// <param name="tiles">The position's ImageNet-normalized tiles [N, 3, th, tw].</param>
    /// <param name="features">The shared backbone's outputs of <see cref="ExportLayers"/> for those tiles.</param>
    /// <param name="tileHeight">th.</param>
    /// <param name="tileWidth">tw.</param>
    /// <param name="hint">A prefix for the names of this position's initializers.</param>
    /// <returns>Raw anomaly maps [N, 1, th, tw] and raw scores [N].</returns>
    (string Maps, string Scores) ExportHead(
        OnnxGraphBuilder g,
        string tiles,
        IReadOnlyList<string> features,
        long tileHeight,
        long tileWidth,
        string hint
    );
}
