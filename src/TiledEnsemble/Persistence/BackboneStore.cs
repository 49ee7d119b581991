using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Logging;
using TiledEnsemble.Configuration;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Pretrained;
using TiledEnsemble.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Persistence;

/// <summary>The backbone of a run: made from the settings when a run starts, saved in it, and loaded from it
/// after.</summary>
internal static class BackboneStore
{
    public const string File = "backbone.safetensors";

    /// <summary>The backbone a new run starts from, with where its weights came from.</summary>
    public static (ResNet Backbone, string Source, Dictionary<string, string>? Provenance) Create(
        EnsembleSettings settings,
        ILogger logger
    )
    {
        var kind = BackboneNames.Parse(settings.Backbone);
        string? path = settings.BackboneWeights ?? (settings.PreTrained ? PretrainedBackbones.Require(kind) : null);
        if (path is null)
        {
            logger.LogWarning(
                "Pretrained weights are off (pre_trained: false): {Backbone} is initialised from seed {Seed}. "
                    + "Results will be far from published ones.",
                settings.Backbone,
                settings.Seed
            );
            return (ResNet.Create(kind, settings.Seed), $"seed:{settings.Seed}", null);
        }

        var backbone = BackboneWeights.Load(kind, path, out var metadata);
        var origin = settings.BackboneWeights is null ? $"pretrained:{PretrainedBackbones.PackageId}" : "file";
        logger.LogInformation(
            "Backbone {Backbone} from {File} ({Source})",
            settings.Backbone,
            path,
            metadata.GetValueOrDefault("source", "no provenance recorded in the file")
        );
        var source = $"{origin}:{Path.GetFileName(path)} sha256:{RunStore.HashFile(path)}";
        return (backbone, source, metadata.Count > 0 ? new Dictionary<string, string>(metadata) : null);
    }

    /// <summary>Saves a new run's backbone write-once (workers creating one run write identical files); returns its
    /// entry.</summary>
    public static FileEntry Save(string runDirectory, ResNet backbone, IReadOnlyDictionary<string, string> metadata)
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in backbone.named_parameters())
        {
            state[name] = parameter;
        }

        foreach (var (name, buffer) in backbone.named_buffers())
        {
            state[name] = buffer;
        }

        var path = Path.Combine(runDirectory, File);
        var temporary = Path.Combine(runDirectory, $".{File}.{Guid.NewGuid():N}.tmp");
        SafeTensors.Save(temporary, state, metadata);
        RunStore.PlaceOnce(temporary, path);
        return new FileEntry { File = File, Sha256 = RunStore.HashFile(path) };
    }

    /// <summary>The run's backbone on <paramref name="device"/>, after its checksum is verified.</summary>
    /// <exception cref="RunIntegrityException">The manifest lists no backbone, or the file does not verify.</exception>
    public static ResNet Load(string runDirectory, RunManifest manifest, Device device)
    {
        var entry = manifest.Backbone
            ?? throw new RunIntegrityException(
                Path.Combine(runDirectory, RunStore.ManifestFile),
                "the manifest lists no backbone file."
            );
        var path = RunStore.Verify(runDirectory, entry);
        var backbone = BackboneWeights.Load(BackboneNames.Parse(manifest.Settings!.Backbone), path, out _);
        backbone.to(device);
        return backbone;
    }
}
