using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TiledEnsemble.Configuration;
using TiledEnsemble.Joining;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble;

/// <summary>
/// A composed tiled-ensemble pipeline, immutable: the settings and every stage (tiler, joiner, seam smoother,
/// post-processor, model). Made by <see cref="TiledEnsembleBuilder.Build"/>, or from a run's record when it is opened;
/// trainers (<see cref="IEnsembleTrainer"/>) train it into a run folder, and <see cref="EnsemblePredictor"/> predicts
/// with it.
/// </summary>
public sealed class EnsembleDefinition
{
    internal EnsembleDefinition(
        EnsembleSettings settings,
        ITiler tiler,
        IJoiner joiner,
        ISeamSmoother? seamSmoother,
        IPostProcessor postProcessor,
        ModelDefinition model,
        ILoggerFactory? loggers
    )
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        Tiler = tiler ?? throw new ArgumentNullException(nameof(tiler));
        Joiner = joiner ?? throw new ArgumentNullException(nameof(joiner));
        SeamSmoother = seamSmoother;
        PostProcessor = postProcessor ?? throw new ArgumentNullException(nameof(postProcessor));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Loggers = loggers ?? NullLoggerFactory.Instance;
        var grid = tiler.Grid
            ?? throw new ArgumentException($"The tiler '{tiler.Identity}' has no grid.", nameof(tiler));
        if (grid.ImageSize != settings.ImageSize || grid.TileSize != settings.TileSize)
        {
            throw new ArgumentException(
                $"The tiler '{tiler.Identity}' lays tiles of {grid.TileSize} over {grid.ImageSize}, but the settings "
                    + $"have "
                    + $"tiles of {settings.TileSize} over {settings.ImageSize}: models are built for the settings' "
                    + $"tile size. "
                    + "Give WithImageSize and WithTiling the tiler's sizes.",
                nameof(tiler)
            );
        }

        if (grid.Count > TiledEnsembleOptionsValidator.MaxPositions)
        {
            throw new ArgumentException(
                $"The tiler '{tiler.Identity}' lays {grid.Count:N0} positions, more than "
                    + $"{TiledEnsembleOptionsValidator.MaxPositions:N0}.",
                nameof(tiler)
            );
        }

        if (!postProcessor.ProcessesPositions && !postProcessor.ProcessesImages)
        {
            throw new ArgumentException(
                $"The post-processor '{postProcessor.Identity}' processes neither positions nor images: nothing "
                    + $"would make "
                    + "masks and labels.",
                nameof(postProcessor)
            );
        }

        Stages = new Dictionary<string, StageIdentity>
        {
            [StageRoles.Tiler] = tiler.Identity,
            [StageRoles.Joiner] = joiner.Identity,
            [StageRoles.SeamSmoother] = seamSmoother?.Identity ?? StageRoles.NoSeamSmoothing,
            [StageRoles.PostProcessor] = postProcessor.Identity,
            [StageRoles.Model] = model.Identity,
        };
    }

    /// <summary>The validated settings.</summary>
    public EnsembleSettings Settings { get; }

    /// <summary>Cuts the positions' tiles.</summary>
    public ITiler Tiler { get; }

    /// <summary>Joins the positions' predictions.</summary>
    public IJoiner Joiner { get; }

    /// <summary>Smooths tile seams; null: none.</summary>
    public ISeamSmoother? SeamSmoother { get; }

    /// <summary>Normalizes and thresholds.</summary>
    public IPostProcessor PostProcessor { get; }

    /// <summary>Makes each position's model.</summary>
    public ModelDefinition Model { get; }

    /// <summary>Logging of every stage.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>The tile layout.</summary>
    public TileGrid Grid => Tiler.Grid;

    /// <summary>Every stage's identity by role (tiler, joiner, seam_smoother, post_processor, model), as runs record
    /// them.</summary>
    public IReadOnlyDictionary<string, StageIdentity> Stages { get; }

    /// <summary>The default tiler of <paramref name="settings"/>.</summary>
    internal static ITiler DefaultTiler(EnsembleSettings settings) =>
        new EnsembleTiler(settings.TileSize, settings.Stride, settings.ImageSize);

    /// <summary>The default seam smoother of <paramref name="settings"/>, or null when they turn smoothing
    /// off.</summary>
    internal static ISeamSmoother? DefaultSeamSmoother(EnsembleSettings settings) =>
        settings.SeamSmoothing ? new SeamSmoother(settings.SeamSigma, settings.SeamWidth) : null;

    /// <summary>The default post-processor of <paramref name="settings"/>.</summary>
    internal static IPostProcessor DefaultPostProcessor(EnsembleSettings settings, ILoggerFactory? loggers) =>
        new PostProcessor(
            settings.NormalizationStage,
            settings.NormalizationMethod,
            settings.ThresholdingStage,
            settings.ThresholdMethod,
            settings.ManualThreshold,
            (loggers ?? NullLoggerFactory.Instance).CreateLogger<PostProcessor>(),
            settings.FalseRejectRate,
            settings.Calibration
        );

    /// <summary>
    /// The definition of a run: its settings, and for each stage the one given in <paramref name="options"/> or the
    /// default of the settings; each is checked against the identity the run recorded (runs that recorded none used the
    /// defaults).
    /// </summary>
    /// <exception cref="StageMismatchException">A recorded stage of the caller's was not given, or a given one
    /// differs.</exception>
    internal static EnsembleDefinition ForRun(
        string runDirectory,
        EnsembleSettings settings,
        IReadOnlyDictionary<string, StageIdentity>? recorded,
        EnsembleLoadOptions options
    )
    {
        var loggers = options.Loggers;
        var model = options.Model
            ?? (
                settings.Model is not null
                    ? ModelDefinition.BuiltIn(settings)
                    : throw new StageMismatchException(
                        runDirectory,
                        StageRoles.Model,
                        recorded?.GetValueOrDefault(StageRoles.Model) ?? new StageIdentity("unknown"),
                        null
                    )
            );
        var definition = new EnsembleDefinition(
            settings,
            options.Tiler ?? DefaultTiler(settings),
            options.Joiner ?? new Joiner(),
            options.SeamSmoother ?? DefaultSeamSmoother(settings),
            options.PostProcessor ?? DefaultPostProcessor(settings, loggers),
            model,
            loggers
        );
        definition.CheckAgainst(runDirectory, recorded ?? DefaultStages(settings), options);
        return definition;
    }

    /// <summary>The identities of the default stages of <paramref name="settings"/>: what runs that recorded none
    /// used.</summary>
    internal static IReadOnlyDictionary<string, StageIdentity> DefaultStages(EnsembleSettings settings) =>
        new Dictionary<string, StageIdentity>
        {
            [StageRoles.Tiler] = DefaultTiler(settings).Identity,
            [StageRoles.Joiner] = new Joiner().Identity,
            [StageRoles.SeamSmoother] = DefaultSeamSmoother(settings)?.Identity ?? StageRoles.NoSeamSmoothing,
            [StageRoles.PostProcessor] = DefaultPostProcessor(settings, null).Identity,
            [StageRoles.Model] = ModelDefinition.BuiltIn(settings).Identity,
        };

    /// <summary>
    /// Refuses when the run recorded other stages than these. A role whose stage was not given and whose recorded stage
    /// is not the default is reported as missing; a given stage as different.
    /// </summary>
    internal void CheckAgainst(
        string runDirectory,
        IReadOnlyDictionary<string, StageIdentity> recorded,
        EnsembleLoadOptions? given
    )
    {
        foreach (var role in StageRoles.All)
        {
            if (!recorded.TryGetValue(role, out var expected))
            {
                continue;
            }

            var actual = Stages[role];
            if (!expected.Equals(actual))
            {
                bool wasGiven =
                    given is null
                    || role switch
                    {
                        StageRoles.Tiler => given.Tiler is not null,
                        StageRoles.Joiner => given.Joiner is not null,
                        StageRoles.SeamSmoother => given.SeamSmoother is not null,
                        StageRoles.PostProcessor => given.PostProcessor is not null,
                        _ => given.Model is not null,
                    };
                throw new StageMismatchException(runDirectory, role, expected, wasGiven ? actual : null);
            }
        }
    }
}
