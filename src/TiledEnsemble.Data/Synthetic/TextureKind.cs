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

    /// <summary>
    /// A machined part in a fixed layout (a plate on a dark tray with four holes, a bore and a row of pins), shifted
    /// by at most a pixel between images: aligned parts, where a pixel shows the same feature in every image.
    /// </summary>
    AlignedPart,
}
