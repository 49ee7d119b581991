using System;

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
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long ExternalDataAboveBytes
    {
        get => _externalDataAboveBytes;
        init
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(ExternalDataAboveBytes),
                    value,
                    "ExternalDataAboveBytes must be 0 (always external) or more bytes."
                );
            }

            _externalDataAboveBytes = value;
        }
    }

    private readonly long _externalDataAboveBytes = DefaultExternalDataAboveBytes;
}
