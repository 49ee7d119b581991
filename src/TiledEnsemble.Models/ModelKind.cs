namespace TiledEnsemble.Models;

/// <summary>The anomaly models.</summary>
public enum ModelKind
{
    /// <summary>Padim: a Gaussian per feature position, Mahalanobis distance.</summary>
    Padim,

    /// <summary>Patchcore: a coreset memory bank of patch features, nearest-neighbour distance.</summary>
    Patchcore,

    /// <summary>FastFlow: a 2-D normalizing flow on backbone features.</summary>
    FastFlow,

    /// <summary>STFPM: student–teacher feature pyramid matching.</summary>
    Stfpm,

    /// <summary>Reverse Distillation: encoder, one-class bottleneck, decoder.</summary>
    ReverseDistillation,
}
