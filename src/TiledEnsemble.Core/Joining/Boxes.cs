using System;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Joining;

/// <summary>The boxes of one image: corners [N, 4] as (x1, y1, x2, y2) in pixels, and one score per box [N].</summary>
public sealed class Boxes : IDisposable
{
    /// <summary>Creates a box set; checks that corners are [N, 4] and scores [N].</summary>
    public Boxes(Tensor corners, Tensor scores)
    {
        TensorGuard.Rank(corners, 2, nameof(corners), "[N, 4] as (x1, y1, x2, y2)");
        TensorGuard.Rank(scores, 1, nameof(scores), "[N]");
        if (corners.shape[1] != 4 || corners.shape[0] != scores.shape[0])
        {
            throw new ArgumentException(
                $"corners must be [N, 4] with N equal to the length of scores; got corners "
                    + $"{TensorGuard.Describe(corners)} and scores {TensorGuard.Describe(scores)}.",
                nameof(corners)
            );
        }

        Corners = corners;
        Scores = scores;
    }

    /// <summary>[N, 4]: x1, y1, x2, y2.</summary>
    public Tensor Corners { get; }

    /// <summary>[N].</summary>
    public Tensor Scores { get; }

    /// <summary>Number of boxes.</summary>
    public long Count => Corners.shape[0];

    /// <summary>An empty set on <paramref name="device"/>.</summary>
    public static Boxes Empty(Device? device = null) => new(zeros(0, 4, device: device), zeros(0, device: device));

    /// <inheritdoc />
    public void Dispose()
    {
        Corners.Dispose();
        Scores.Dispose();
    }
}
