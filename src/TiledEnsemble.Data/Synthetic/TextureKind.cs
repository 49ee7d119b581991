namespace TiledEnsemble.Data.Synthetic;

/// <summary>Procedural textures for generated inspection images.</summary>
public enum TextureKind
{
    /// <summary>Interlaced warp and weft threads.</summary>
    WovenFabric,

    /// <summary>Growth rings with fibre noise.</summary>
    WoodGrain,

    /// <summary>Horizontal polishing streaks on grey metal.</summary>
    BrushedMetal,

    /// <summary>Square tiles with grout lines.</summary>
    Tiles,
}
