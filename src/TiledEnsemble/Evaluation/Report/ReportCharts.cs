using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TiledEnsemble.Metrics;

namespace TiledEnsemble.Evaluation.Report;

/// <summary>The report's charts as PNG bytes, drawn with ScottPlot.</summary>
internal static class ReportCharts
{
    private const int Width = 520;
    private const int Height = 400;

    /// <summary>A rate curve (ROC or PRO) with its area in the title and the chance line; null without
    /// points.</summary>
    public static byte[]? Curve(
        string title,
        CurvePoints points,
        string xLabel,
        string yLabel,
        double xLimit = 1,
        bool diagonal = true
    )
    {
        if (points.FalsePositiveRate.Length == 0)
        {
            return null;
        }

        var plot = new ScottPlot.Plot();
        var line = plot.Add.ScatterLine(points.FalsePositiveRate, points.TruePositiveRate);
        line.LineWidth = 2;
        if (diagonal)
        {
            var chance = plot.Add.Line(0, 0, xLimit, xLimit);
            chance.LinePattern = ScottPlot.LinePattern.Dashed;
            chance.Color = ScottPlot.Colors.Gray;
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.SetLimits(0, xLimit, 0, 1.02);
        return plot.GetImageBytes(Width, Height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>Histograms of the normal and the anomalous images' scores with the image threshold; null without
    /// images.</summary>
    public static byte[]? ScoreHistogram(IReadOnlyList<ImageResult> images, double? threshold)
    {
        var labelled = images.Where(i => i.GroundTruth >= 0).ToList();
        if (labelled.Count == 0)
        {
            return null;
        }

        double low = Math.Min(labelled.Min(i => i.Score), threshold ?? double.MaxValue);
        double high = Math.Max(labelled.Max(i => i.Score), threshold ?? double.MinValue);
        if (high <= low)
        {
            high = low + 1;
        }

        const int Bins = 20;
        double width = (high - low) / Bins;
        var plot = new ScottPlot.Plot();
        foreach (
            var (label, colour, truth) in new[]
            {
                ("normal", ScottPlot.Colors.SteelBlue, 0),
                ("anomalous", ScottPlot.Colors.OrangeRed, 1),
            }
        )
        {
            var counts = new double[Bins];
            foreach (var image in labelled.Where(i => i.GroundTruth == truth))
            {
                counts[Math.Clamp((int)((image.Score - low) / width), 0, Bins - 1)]++;
            }

            var bars = plot.Add.Bars(
                Enumerable.Range(0, Bins).Select(b => low + ((b + 0.5) * width)).ToArray(),
                counts
            );
            foreach (var bar in bars.Bars)
            {
                bar.Size = width * 0.9;
                bar.FillColor = colour.WithAlpha(0.55);
                bar.LineWidth = 0;
            }

            bars.LegendText = label;
        }

        if (threshold is { } t)
        {
            var line = plot.Add.VerticalLine(t);
            line.LineWidth = 2;
            line.Color = ScottPlot.Colors.Black;
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"image threshold {t:0.###}");
        }

        plot.ShowLegend(ScottPlot.Alignment.UpperCenter);
        plot.Title("Image scores");
        plot.XLabel("score");
        plot.YLabel("images");
        plot.Axes.Margins(bottom: 0);
        return plot.GetImageBytes(Width, Height, ScottPlot.ImageFormat.Png);
    }
}
