using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Prediction;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Tests;

public class BoxFinderTests
{
    public static TheoryData<string, int, int, int[]> Masks =>
        new()
        {
            // Name, height, width, masked pixels as row-major indices.
            { "empty", 9, 13, Array.Empty<int>() },
            { "top-left pixel", 9, 13, new[] { 0 } },
            { "bottom-right pixel", 9, 13, new[] { (9 * 13) - 1 } },
            { "diagonal pair (one 8-connected region)", 9, 13, new[] { (3 * 13) + 4, (4 * 13) + 5 } },
            { "two regions far apart", 9, 13, new[] { (1 * 13) + 1, (1 * 13) + 2, (7 * 13) + 11, (8 * 13) + 11 } },
            {
                "U shape joined below",
                9,
                13,
                new[]
                {
                    (2 * 13) + 3,
                    (3 * 13) + 3,
                    (4 * 13) + 3,
                    (4 * 13) + 4,
                    (4 * 13) + 5,
                    (3 * 13) + 5,
                    (2 * 13) + 5,
                }
            },
            { "right edge column", 9, 13, Enumerable.Range(2, 5).Select(r => (r * 13) + 12).ToArray() },
            { "whole image", 5, 7, Enumerable.Range(0, 35).ToArray() },
        };

    [Theory]
    [MemberData(nameof(Masks))]
    public void BoxesAreThoseOfAFloodFillOverTheWholeImage(string name, int height, int width, int[] masked)
    {
        var maskValues = new bool[height * width];
        foreach (var i in masked)
        {
            maskValues[i] = true;
        }

        var mapValues = Enumerable.Range(0, height * width).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        AssertSameAsFloodFill(maskValues, mapValues, height, width, name);
    }

    [Theory]
    [InlineData(1, 37, 53, 0.02)]
    [InlineData(2, 64, 48, 0.1)]
    [InlineData(3, 31, 31, 0.4)]
    [InlineData(4, 100, 90, 0.001)]
    public void RandomMasksGiveTheFloodFillsBoxes(int seed, int height, int width, double fraction)
    {
        var random = new Random(seed);
        var maskValues = Enumerable.Range(0, height * width).Select(_ => random.NextDouble() < fraction).ToArray();
        var mapValues = Enumerable.Range(0, height * width).Select(_ => (float)random.NextDouble()).ToArray();
        AssertSameAsFloodFill(maskValues, mapValues, height, width, $"seed {seed}");
    }

    private static void AssertSameAsFloodFill(bool[] maskValues, float[] mapValues, int height, int width, string name)
    {
        using var scope = NewDisposeScope();

        // As prediction hands them over: [1, H, W] bool mask and float map.
        var mask = tensor(maskValues).reshape(1, height, width);
        var map = tensor(mapValues).reshape(1, height, width);
        var found = BoxFinder
            .Find(map, mask)
            .OrderBy(b => b.Y1)
            .ThenBy(b => b.X1)
            .ThenBy(b => b.Y2)
            .ThenBy(b => b.X2)
            .ToList();
        var expected = FloodFill(maskValues, mapValues, height, width)
            .OrderBy(b => b.Y1)
            .ThenBy(b => b.X1)
            .ThenBy(b => b.Y2)
            .ThenBy(b => b.X2)
            .ToList();
        Assert.True(
            expected.SequenceEqual(found),
            $"{name}: expected {string.Join("; ", expected)}, got {string.Join("; ", found)}"
        );
    }

    /// <summary>The reference: a breadth-first flood fill with 8-connectivity over every pixel of the image.</summary>
    private static List<AnomalyBox> FloodFill(bool[] mask, float[] map, int height, int width)
    {
        var seen = new bool[mask.Length];
        var boxes = new List<AnomalyBox>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start])
            {
                continue;
            }

            int x1 = int.MaxValue,
                y1 = int.MaxValue,
                x2 = -1,
                y2 = -1;
            double score = double.NegativeInfinity;
            var queue = new Queue<int>();
            queue.Enqueue(start);
            seen[start] = true;
            while (queue.Count > 0)
            {
                int i = queue.Dequeue(),
                    y = i / width,
                    x = i % width;
                (x1, y1, x2, y2, score) = (
                    Math.Min(x1, x),
                    Math.Min(y1, y),
                    Math.Max(x2, x + 1),
                    Math.Max(y2, y + 1),
                    Math.Max(score, map[i])
                );
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy,
                            nx = x + dx,
                            n = (ny * width) + nx;
                        if (ny >= 0 && ny < height && nx >= 0 && nx < width && mask[n] && !seen[n])
                        {
                            seen[n] = true;
                            queue.Enqueue(n);
                        }
                    }
                }
            }

            boxes.Add(new AnomalyBox(x1, y1, x2, y2, score));
        }

        return boxes;
    }
}
