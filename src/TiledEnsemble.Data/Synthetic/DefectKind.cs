namespace TiledEnsemble.Data.Synthetic;

/// <summary>Defects the generator paints; each becomes a defect folder (snake_case name) in the MVTec layout.</summary>
public enum DefectKind
{
    /// <summary>A thin straight line, darker or brighter than the surface.</summary>
    Scratch,

    /// <summary>A small filled disc.</summary>
    Spot,

    /// <summary>A dark jagged gap.</summary>
    Cut,

    /// <summary>A soft-edged coloured blob.</summary>
    ColorStain,

    /// <summary>A patch where the texture is missing (flat surface colour).</summary>
    MissingPattern,
}
