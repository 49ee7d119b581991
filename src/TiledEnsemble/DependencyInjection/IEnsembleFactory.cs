namespace TiledEnsemble.DependencyInjection;

/// <summary>Creates ensembles from the registered, validated options, or opens trained runs.</summary>
public interface IEnsembleFactory
{
    /// <summary>A new, untrained ensemble with the registered options.</summary>
    Ensemble Create();

    /// <summary>Opens a trained run directory (verified as <see cref="EnsemblePredictor.Load"/> does).</summary>
    Ensemble Load(string runDirectory);
}
