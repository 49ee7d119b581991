using Microsoft.Extensions.Logging;
using TiledEnsemble.Joining;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Tiling;

namespace TiledEnsemble;

/// <summary>
/// How a run is opened (<see cref="Ensemble.Load(string, EnsembleLoadOptions)"/>, <see cref="EnsemblePredictor.Load"/>)
/// or resumed. Stages left null are the library's defaults for the run's settings; a run made with a stage of the
/// caller's needs that stage here, and every stage given must have the identity the run recorded
/// (<see cref="StageMismatchException"/> otherwise).
/// </summary>
public sealed record EnsembleLoadOptions
{
    /// <summary>Overrides the device the run was trained on ("cpu", "cuda", "cuda:N"): train on CUDA, inspect on
    /// CPU.</summary>
    public string? Device { get; init; }

    /// <summary>Logging.</summary>
    public ILoggerFactory? Loggers { get; init; }

    /// <summary>The run's tiler, when it is not the default.</summary>
    public ITiler? Tiler { get; init; }

    /// <summary>The run's joiner, when it is not the default.</summary>
    public IJoiner? Joiner { get; init; }

    /// <summary>The run's seam smoother, when it is not the default.</summary>
    public ISeamSmoother? SeamSmoother { get; init; }

    /// <summary>The run's post-processor, when it is not the default.</summary>
    public IPostProcessor? PostProcessor { get; init; }

    /// <summary>The run's model, when it is not a built-in one.</summary>
    public ModelDefinition? Model { get; init; }
}
