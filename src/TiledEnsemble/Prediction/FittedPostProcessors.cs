using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Persistence;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Prediction;

/// <summary>What a run's post-processor learned, restored from its manifest.</summary>
internal static class FittedPostProcessors
{
    /// <summary>Each position's fitted post-processor in row-major order (null entries where it learned
    /// nothing).</summary>
    /// <exception cref="RunIntegrityException">A saved state does not restore.</exception>
    public static IFittedPostProcessor?[] Positions(
        EnsembleDefinition definition,
        RunManifest manifest,
        string runDirectory
    )
    {
        int columns = definition.Grid.Columns;
        return manifest
            .Positions.OrderBy(p => (p.Row * columns) + p.Column)
            .Select(p =>
                p.Statistics is { } state
                    ? Restore(
                        definition,
                        PostProcessingLevel.Position,
                        state.GetRawText(),
                        runDirectory,
                        $"position ({p.Row}, {p.Column})"
                    )
                    : null
            )
            .ToArray();
    }

    /// <summary>The image-level fitted post-processor, or null when the run has none.</summary>
    /// <exception cref="RunIntegrityException">The saved state does not restore.</exception>
    public static IFittedPostProcessor? Image(
        EnsembleDefinition definition,
        RunManifest manifest,
        string runDirectory
    ) =>
        manifest.ImageStatistics is { } state
            ? Restore(definition, PostProcessingLevel.Image, state.GetRawText(), runDirectory, "the image level")
            : null;

    private static IFittedPostProcessor Restore(
        EnsembleDefinition definition,
        PostProcessingLevel level,
        string state,
        string runDirectory,
        string what
    )
    {
        try
        {
            return definition.PostProcessor.Restore(level, state);
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException)
        {
            throw new RunIntegrityException(
                Path.Combine(runDirectory, RunStore.ManifestFile),
                $"the post-processing state of {what} does not restore with '{definition.PostProcessor.Identity}': "
                    + $"{exception.Message}"
            );
        }
    }
}
