using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace TiledEnsemble.Benchmarks;

/// <summary>Splits a stack of images into batches (views, no copies).</summary>
internal static class BenchmarkBatches
{
    public static IEnumerable<Tensor> Of(Tensor images, int batch)
    {
        for (long i = 0; i < images.shape[0]; i += batch)
        {
            yield return images.narrow(0, i, Math.Min(batch, images.shape[0] - i));
        }
    }
}
