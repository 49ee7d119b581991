using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TiledEnsemble.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// Loads pretrained backbone weights that a user provides (no weights can be downloaded by the library): safetensors
/// files as model hubs serve them (torchvision or timm ResNet names; F32, F16 or BF16), or TorchSharp's own format.
/// Loading is strict: every missing or unexpected key and every shape mismatch is reported by name.
/// </summary>
public static class BackboneWeights
{
    private static readonly string[] WrapperPrefixes = { "module.", "model.", "backbone.", "encoder." };

    /// <summary>
    /// Loads a safetensors state dict into <paramref name="backbone"/>. Classifier entries (<c>fc.*</c>) are ignored,
    /// <c>num_batches_tracked</c> may be present or not, and a wrapper prefix common to all keys (module., model.,
    /// backbone., encoder.) is removed. Returns the file's metadata (for recording which weights were used).
    /// </summary>
    /// <exception cref="WeightLoadException">Keys or shapes do not fit.</exception>
    /// <exception cref="SafeTensorsException">The file is malformed.</exception>
    public static IReadOnlyDictionary<string, string> LoadSafeTensors(ResNet backbone, string path)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var (tensors, metadata) = SafeTensors.Load(path);
        try
        {
            SafeTensors.RequireFinite(path, tensors);
            Apply(backbone, Normalize(tensors), path);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }

        backbone.Freeze();
        return metadata;
    }

    /// <summary>
    /// Creates a <paramref name="kind"/> backbone from a safetensors file, built as deep as the file goes: up to layer3
    /// when it holds no <c>layer4.*</c> weights (as the ImageNet ResNet-18 of <c>TiledEnsemble.Pretrained</c>), else up
    /// to layer4. Loading is as strict as <see cref="LoadSafeTensors"/>.
    /// </summary>
    /// <param name="kind">The backbone.</param>
    /// <param name="path">The safetensors file.</param>
    /// <param name="metadata">The file's metadata (provenance of the weights).</param>
    /// <exception cref="WeightLoadException">Keys or shapes do not fit.</exception>
    /// <exception cref="SafeTensorsException">The file is malformed.</exception>
    public static ResNet Load(BackboneKind kind, string path, out IReadOnlyDictionary<string, string> metadata)
    {
        var (tensors, fileMetadata) = SafeTensors.Load(path);
        ResNet? backbone = null;
        try
        {
            SafeTensors.RequireFinite(path, tensors);
            var normalized = Normalize(tensors);
            int depth = normalized.Keys.Any(k => k.StartsWith("layer4.", StringComparison.Ordinal)) ? 4 : 3;
            backbone = ResNet.Create(kind, 0, depth);
            Apply(backbone, normalized, path);
            backbone.Freeze();
            metadata = fileMetadata;
            var loaded = backbone;
            backbone = null;
            return loaded;
        }
        finally
        {
            backbone?.Dispose();
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Loads weights saved with TorchSharp's <c>Module.save</c> (".dat").</summary>
    public static void LoadTorchSharp(ResNet backbone, string path)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Weights file '{path}' does not exist.", path);
        }

        try
        {
            backbone.load(path, strict: true);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or IOException)
        {
            throw new IOException(
                $"Weights in '{path}' could not be loaded into {backbone.GetName()}: {exception.Message}",
                exception
            );
        }

        backbone.Freeze();
    }

    private static Dictionary<string, Tensor> Normalize(Dictionary<string, Tensor> tensors)
    {
        var keys = tensors.Keys.ToList();
        var prefix = WrapperPrefixes.FirstOrDefault(p =>
            keys.Count > 0 && keys.All(k => k.StartsWith(p, StringComparison.Ordinal))
        );
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in tensors)
        {
            var name = prefix is null ? key : key[prefix.Length..];
            if (
                name.StartsWith("fc.", StringComparison.Ordinal)
                || name.EndsWith("num_batches_tracked", StringComparison.Ordinal)
            )
            {
                continue;
            }

            result[name] = value;
        }

        return result;
    }

    private static void Apply(ResNet backbone, Dictionary<string, Tensor> source, string path)
    {
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in backbone.named_parameters())
        {
            targets[name] = parameter;
        }

        foreach (var (name, buffer) in backbone.named_buffers())
        {
            if (!name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                targets[name] = buffer;
            }
        }

        var missing = targets.Keys.Where(k => !source.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = source
            .Keys.Where(k => !targets.ContainsKey(k))
            .OrderBy(k => k, StringComparer.Ordinal)
            .ToList();
        var shapes = source
            .Where(s => targets.TryGetValue(s.Key, out var t) && !t.shape.SequenceEqual(s.Value.shape))
            .Select(s =>
                $"{s.Key}: file [{string.Join(", ", s.Value.shape)}] vs model "
                + $"[{string.Join(", ", targets[s.Key].shape)}]"
            )
            .ToList();
        if (missing.Count + unexpected.Count + shapes.Count > 0)
        {
            throw new WeightLoadException(path, missing, unexpected, shapes);
        }

        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            using var value = source[name].to(target.dtype, target.device);
            target.copy_(value);
        }
    }
}
