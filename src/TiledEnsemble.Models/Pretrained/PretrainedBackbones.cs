using System;
using System.Collections.Generic;
using System.IO;
using TiledEnsemble.Models.Backbones;

namespace TiledEnsemble.Models.Pretrained;

/// <summary>
/// Finds the ImageNet-trained backbone weights that the package <c>TiledEnsemble.Pretrained</c> puts next to an
/// application. ResNet-18 only: no ImageNet Wide-ResNet-50-2 can be had from the package sources this project uses.
/// </summary>
public static class PretrainedBackbones
{
    /// <summary>The package that ships the weights.</summary>
    public const string PackageId = "TiledEnsemble.Pretrained";

    /// <summary>The ResNet-18 file's name.</summary>
    public const string ResNet18File = "resnet18-imagenet-cntk.safetensors";

    /// <summary>An environment variable naming a folder to look in first.</summary>
    public const string DirectoryVariable = "TILEDENSEMBLE_PRETRAINED_DIR";

    /// <summary>The folders searched, in order: <see cref="DirectoryVariable"/>, then the application's
    /// <c>TiledEnsemble.Pretrained</c> folder.</summary>
    public static IReadOnlyList<string> SearchFolders()
    {
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } folder)
        {
            folders.Add(folder);
        }

        folders.Add(Path.Combine(AppContext.BaseDirectory, PackageId));
        return folders;
    }

    /// <summary>The pretrained weights of <paramref name="kind"/>, or null where there are none.</summary>
    public static string? Find(BackboneKind kind)
    {
        if (kind != BackboneKind.ResNet18)
        {
            return null;
        }

        foreach (var folder in SearchFolders())
        {
            var path = Path.Combine(folder, ResNet18File);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>The pretrained weights of <paramref name="kind"/>.</summary>
    /// <exception cref="FileNotFoundException">There are none; the message says what to add or to set.</exception>
    public static string Require(BackboneKind kind) =>
        Find(kind)
        ?? throw new FileNotFoundException(
            kind == BackboneKind.ResNet18
                ? $"Pretrained ResNet-18 weights were not found (looked for {ResNet18File} in "
                    + $"{string.Join(", ", SearchFolders())}). Add the package to the application: `dotnet add package "
                    + $"{PackageId}`; or give a safetensors file (backbone_weights / WithBackboneWeights); or turn "
                    + $"pretrained weights off (pre_trained: false / WithPretrainedBackbone(false)) to use "
                    + $"seeded random weights."
                : $"No ImageNet weights for {BackboneNames.Name(kind)} are shipped ({PackageId} has ResNet-18 only). "
                    + $"Give a safetensors file (backbone_weights / WithBackboneWeights, e.g. timm's "
                    + $"wide_resnet50_2.racm_in1k), use backbone resnet18, or turn pretrained weights off "
                    + $"(pre_trained: false / WithPretrainedBackbone(false))."
        );
}
