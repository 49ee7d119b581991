using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace TiledEnsemble.Models;

/// <summary>
/// What a fitted model needs to predict again: named tensors (saved as safetensors) and string settings. Disposing it
/// releases the tensors.
/// </summary>
public sealed class ModelState : IDisposable
{
    /// <summary>Creates a state; it owns the tensors.</summary>
    public ModelState(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Named tensors (on the CPU).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>Settings and provenance, e.g. "model", "backbone", "layers".</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor <paramref name="name"/>, or an exception naming it and the model.</summary>
    public Tensor Require(string name, string model) =>
        Tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new ArgumentException(
                $"The saved {model} state has no tensor '{name}'; it was saved by another model or is damaged."
            );

    /// <summary>The setting <paramref name="name"/>, or an exception naming it and the model.</summary>
    public string RequireSetting(string name, string model) =>
        Metadata.TryGetValue(name, out var value)
            ? value
            : throw new ArgumentException(
                $"The saved {model} state has no setting '{name}'; it was saved by another model or is damaged."
            );

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var tensor in Tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
