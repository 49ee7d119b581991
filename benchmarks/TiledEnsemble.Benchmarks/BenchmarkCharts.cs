using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Charts of benchmark results for docs/benchmarks.md, written when the benchmark runs with <c>--charts DIR</c>
/// (PNG, drawn with ScottPlot).
/// </summary>
internal static class BenchmarkCharts
{
    /// <summary>Where charts go; null writes none.</summary>
    public static string? Folder { get; set; }

    /// <summary>Grouped bars: one group per category, one bar per series.</summary>
    public static void Bars(
        string file,
        string title,
        string yLabel,
        IReadOnlyList<string> categories,
        IReadOnlyList<(string Series, double[] Values)> series,
        double? yMin = null
    )
    {
        if (Folder is null)
        {
            return;
        }

        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int groups = categories.Count,
            width = series.Count + 1;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = Enumerable
                .Range(0, groups)
                .Select(g => new ScottPlot.Bar
                {
                    Position = (g * width) + s,
                    Value = series[s].Values[g],
                    FillColor = palette.GetColor(s),
                    Label = series[s].Values[g].ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
                })
                .ToList();
            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = series[s].Series;
            plotted.ValueLabelStyle.FontSize = 11;
        }

        plot.Axes.Bottom.SetTicks(
            Enumerable.Range(0, groups).Select(g => (g * width) + ((series.Count - 1) / 2.0)).ToArray(),
            categories.ToArray()
        );
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Title(title);
        plot.YLabel(yLabel);
        if (yMin is { } low)
        {
            plot.Axes.SetLimitsY(low, series.SelectMany(s => s.Values).Max() * 1.05);
        }
        else
        {
            plot.Axes.Margins(bottom: 0);
        }

        Save(plot, file);
    }

    /// <summary>Lines of y against x, one per series.</summary>
    public static void Lines(
        string file,
        string title,
        string xLabel,
        string yLabel,
        IReadOnlyList<(string Series, double[] X, double[] Y)> series,
        bool logY = false
    )
    {
        if (Folder is null)
        {
            return;
        }

        var plot = new ScottPlot.Plot();
        foreach (var (name, x, y) in series)
        {
            var line = plot.Add.Scatter(x, logY ? y.Select(Math.Log10).ToArray() : y);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        if (logY)
        {
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                LabelFormatter = v => Math.Pow(10, v).ToString("0", System.Globalization.CultureInfo.InvariantCulture),
            };
            plot.Axes.Left.TickGenerator = ticks;
        }

        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        Save(plot, file);
    }

    private static void Save(ScottPlot.Plot plot, string file)
    {
        Directory.CreateDirectory(Folder!);
        var path = Path.Combine(Folder!, file);
        plot.SavePng(path, 640, 400);
        Console.WriteLine($"(chart: {Path.GetFileName(path)})");
    }
}
