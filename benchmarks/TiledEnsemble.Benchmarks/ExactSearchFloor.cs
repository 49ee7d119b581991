using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The least arithmetic any exact nearest-neighbour search must do — one product of every query patch with every bank
/// entry — timed on this machine: with the backbone's own time, the highest ratio to the bound an exact Patchcore can
/// reach.
/// </summary>
internal static class ExactSearchFloor
{
    /// <summary>
    /// Seconds per image of one product of <paramref name="images"/> × <paramref name="queriesPerImage"/> random query
    /// rows with each of <paramref name="banks"/> (one bank per tile position; one for a single model); median of
    /// <paramref name="passes"/> passes after a warm-up.
    /// </summary>
    public static double SecondsPerImage(IReadOnlyList<Tensor> banks, long queriesPerImage, int images, int passes)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var generator = new Generator(7);
        var queries = randn(new[] { images * queriesPerImage, banks[0].shape[1] }, generator: generator);
        double Pass()
        {
            var watch = Stopwatch.StartNew();
            foreach (var bank in banks)
            {
                using var step = NewDisposeScope();
                queries.mm(bank.t());
            }

            return watch.Elapsed.TotalSeconds / images;
        }

        Pass();
        return PairedPasses.Median(Enumerable.Range(0, passes).Select(_ => Pass()).ToList());
    }

    /// <summary>The backbone's share of the time when the search costs its floor.</summary>
    public static double Ceiling(double backboneSecondsPerImage, double searchSecondsPerImage) =>
        backboneSecondsPerImage / (backboneSecondsPerImage + searchSecondsPerImage);
}
