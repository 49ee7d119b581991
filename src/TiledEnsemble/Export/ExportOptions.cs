namespace TiledEnsemble.Export;

/// <summary>How a trained run is exported to ONNX (<see cref="EnsembleExporter"/>).</summary>
public sealed record ExportOptions
{
    /// <summary>The default <see cref="ExternalDataAboveBytes"/>: 1.5 GiB, below protocol buffers' 2 GB with room to
    /// spare.</summary>
    public const long DefaultExternalDataAboveBytes = 3L << 29;

    /// <summary>
    /// Above this estimate of the graph's weights, they go to an external data file beside <c>model.onnx</c>
    /// (<c>model.onnx.data</c>); ONNX runtimes read it from there.
    /// </summary>
    public long ExternalDataAboveBytes { get; init; } = DefaultExternalDataAboveBytes;
}
