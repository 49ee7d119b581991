using System.Collections.Generic;
using TiledEnsemble.Serialization;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>
/// Backbone weights converted from another format, in the library's (torchvision's) parameter names, with where they
/// came from. Plain arrays: converting needs no libtorch.
/// </summary>
public sealed class ConvertedBackbone
{
    internal ConvertedBackbone(
        IReadOnlyDictionary<string, (long[] Shape, float[] Data)> tensors,
        IReadOnlyDictionary<string, string> provenance,
        IReadOnlyDictionary<string, string> layerOutputs
    )
    {
        Tensors = tensors;
        Provenance = provenance;
        LayerOutputs = layerOutputs;
    }

    /// <summary>Parameters and batch-norm statistics by name (<c>conv1.weight</c>, <c>layer3.1.bn2.running_var</c>,
    /// …).</summary>
    public IReadOnlyDictionary<string, (long[] Shape, float[] Data)> Tensors { get; }

    /// <summary>Where the weights came from (source package and version, file hashes, conversion), stored as the file's
    /// metadata.</summary>
    public IReadOnlyDictionary<string, string> Provenance { get; }

    /// <summary>The source graph's tensor that equals each layer's output (<c>layer1</c> … <c>layer3</c>): for
    /// checking against the original.</summary>
    public IReadOnlyDictionary<string, string> LayerOutputs { get; }

    /// <summary>Writes the weights as safetensors with the provenance as metadata (temp file, then rename).</summary>
    public void Save(string path) => SafeTensors.SaveFloat32(path, Tensors, Provenance);
}
