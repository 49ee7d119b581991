using System;
using System.Collections.Generic;
using System.Linq;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// The threshold an inspection line sets from good parts alone: the lowest that rejects at most a given share of
/// held-out good values (a value at or above the threshold is rejected, as the post-processor labels).
/// </summary>
public static class FalseRejectThreshold
{
    /// <summary>The default rate: one good part in a hundred rejected.</summary>
    public const double DefaultRate = 0.01;

    /// <summary>
    /// Computes the threshold from <paramref name="goodValues"/>: with n values, at most ⌊rate·n⌋ of them are at
    /// or above it. It lies halfway between the highest accepted value and the lowest rejected one (or just above the
    /// highest value when none may be rejected), in float32, the precision in which maps and scores are compared.
    /// </summary>
    /// <param name="goodValues">Scores (or map maxima) of good validation samples; finite.</param>
    /// <param name="rate">The share of good samples that may be rejected, in [0, 1).</param>
    /// <returns>The threshold and the share of <paramref name="goodValues"/> it rejects.</returns>
    /// <exception cref="ArgumentException">No values, or a value that is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public static (double Threshold, double RejectedShare) Compute(IReadOnlyCollection<double> goodValues, double rate)
    {
        ArgumentNullException.ThrowIfNull(goodValues);
        Validate(rate, nameof(rate));
        if (goodValues.Count == 0)
        {
            throw new ArgumentException(
                "A false-reject threshold needs good validation samples; there are none.",
                nameof(goodValues)
            );
        }

        var sorted = goodValues.Select(v => (float)v).ToArray();
        if (Array.FindIndex(sorted, v => !float.IsFinite(v)) is var bad and >= 0)
        {
            throw new ArgumentException(
                $"Good value {bad} is {sorted[bad]}; values must be finite.",
                nameof(goodValues)
            );
        }

        Array.Sort(sorted);
        int n = sorted.Length;
        int allowed = (int)Math.Floor(rate * n);
        float highestAccepted = sorted[n - 1 - allowed];
        float threshold = MathF.BitIncrement(highestAccepted);
        if (allowed > 0)
        {
            // Halfway to the lowest rejected value, where it lies above the highest accepted one by more than one step.
            float lowestRejected = sorted[n - allowed];
            float halfway = (float)((highestAccepted + (double)lowestRejected) / 2);
            if (halfway > highestAccepted)
            {
                threshold = halfway;
            }
        }

        int rejected = sorted.Count(v => v >= threshold);
        return (threshold, (double)rejected / n);
    }

    /// <summary>Throws when <paramref name="rate"/> is outside [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside [0, 1) or not a number.</exception>
    public static void Validate(double rate, string parameter)
    {
        if (!(rate >= 0 && rate < 1))
        {
            throw new ArgumentOutOfRangeException(
                parameter,
                rate,
                $"The false-reject rate is the share of good parts that may be rejected, in [0, 1); got {rate}."
            );
        }
    }
}
