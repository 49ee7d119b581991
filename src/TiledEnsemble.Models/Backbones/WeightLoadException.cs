using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TiledEnsemble.Models.Backbones;

/// <summary>A weights file does not fit the model: keys missing or unexpected, or shapes that differ; all
/// named.</summary>
public sealed class WeightLoadException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WeightLoadException(
        string filePath,
        IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected,
        IReadOnlyList<string> shapeMismatches
    )
        : base(Describe(filePath, missing, unexpected, shapeMismatches))
    {
        FilePath = filePath;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>The weights file.</summary>
    public string FilePath { get; }

    /// <summary>Model parameters the file lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File entries the model does not have.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>"name: file [..] vs model [..]" for every shape mismatch.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    private static string Describe(
        string file,
        IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected,
        IReadOnlyList<string> shapes
    )
    {
        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add(
                $"missing {missing.Count} key(s): "
                    + $"{string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : string.Empty)}"
            );
        }

        if (unexpected.Count > 0)
        {
            parts.Add(
                $"unexpected {unexpected.Count} key(s): "
                    + $"{string.Join(", ", unexpected.Take(10))}{(unexpected.Count > 10 ? ", …" : string.Empty)}"
            );
        }

        if (shapes.Count > 0)
        {
            parts.Add($"shape mismatches: {string.Join("; ", shapes.Take(10))}");
        }

        return $"Weights in '{file}' do not fit the model: {string.Join("; ", parts)}.";
    }
}
