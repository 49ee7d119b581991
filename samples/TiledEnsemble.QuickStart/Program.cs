// Quick start: cut a generated image into overlapping tiles, join them back, and print the round-trip error.
using System;
using TiledEnsemble.Joining;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;

var imageSize = new Size2D(256, 256);
const int TileSize = 128;
const int Stride = 64;

using var scope = NewDisposeScope();
using var generator = new Generator(42);
var image = rand(new long[] { 2, 3, imageSize.Height, imageSize.Width }, generator: generator);

var tiler = new Tiler(TileSize, Stride, imageSize);
var grid = tiler.GridFor(imageSize);
var tiles = tiler.Tile(image);
var restored = tiler.Untile(tiles);
var error = (restored - image).abs().max().item<float>();
Console.WriteLine($"Grid: {grid}");
Console.WriteLine($"Tiles: [{string.Join(", ", tiles.shape)}]");
Console.WriteLine($"Round-trip max |error| (overlapping grid, padding mode): {error}");

var ensembleTiler = new EnsembleTiler(TileSize, Stride, imageSize);
var byPosition = ensembleTiler.Tile(image);
Console.WriteLine($"Ensemble tiles [nH, nW, B, C, th, tw]: [{string.Join(", ", byPosition.shape)}]");
var ensembleError = (ensembleTiler.Untile(byPosition) - image).abs().max().item<float>();
Console.WriteLine($"Ensemble round-trip max |error|: {ensembleError}");

var odd = new Size2D(250, 190);
var padded = new Tiler(TileSize, Stride, odd).Tile(image[.., .., ..odd.Height, ..odd.Width]);
var oddError = (new Tiler(TileSize, Stride, odd).Untile(padded) - image[.., .., ..odd.Height, ..odd.Width])
    .abs()
    .max()
    .item<float>();
Console.WriteLine(
    $"Round-trip max |error| on {odd} (grid padded to {TileGrid.Create(odd, TileSize, Stride).CoveringSize}): "
        + $"{oddError}"
);

var smoother = new SeamSmoother(sigma: 2, width: 0.1);
var seams = smoother.SeamMask(grid);
Console.WriteLine(
    $"Seam smoothing (sigma 2, width 0.1) touches {seams.sum().item<long>()} of {imageSize.Area} pixels."
);
return error == 0 && ensembleError == 0 && oddError == 0 ? 0 : 1;
