using TiledEnsemble.Configuration;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble;

/// <summary>What a model factory gets to build the model of one tile position.</summary>
/// <param name="Backbone">The shared backbone (do not dispose it).</param>
/// <param name="Device">The device to compute on.</param>
/// <param name="Position">The tile position.</param>
/// <param name="Settings">The ensemble settings.</param>
public sealed record ModelContext(ResNet Backbone, Device Device, TilePosition Position, EnsembleSettings Settings);
