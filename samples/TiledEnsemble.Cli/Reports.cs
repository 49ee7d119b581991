using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using TiledEnsemble.Evaluation;

namespace TiledEnsemble.Cli;

/// <summary>Tables, metrics.json and predictions.csv.</summary>
internal static class Reports
{
    public static readonly string[] MetricOrder =
    {
        "image_AUROC",
        "image_F1",
        "image_AUPR",
        "image_TPR_at_1pct_FPR",
        "image_TPR_at_5pct_FPR",
        "pixel_AUROC",
        "pixel_AUPRO",
        "pixel_F1",
    };

    public static void MetricsTable(
        IAnsiConsole console,
        params (string Name, IReadOnlyDictionary<string, double> Metrics)[] columns
    )
    {
        var table = new Table().AddColumn("metric");
        foreach (var (name, _) in columns)
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        // The usual metrics in their order; under image_AUROC, that of every image-score aggregation (metrics.json
        // keeps their full keys, image_AUROC_<aggregation>), short enough for an 80-column terminal.
        foreach (var metric in MetricOrder)
        {
            table.AddRow(
                new[] { metric }
                    .Concat(columns.Select(c => c.Metrics.TryGetValue(metric, out var v) ? Format(v) : "-"))
                    .ToArray()
            );
            if (metric == "image_AUROC")
            {
                foreach (var aggregation in Joining.ImageScores.Aggregations.Select(Joining.ImageScores.Name))
                {
                    var key = $"image_AUROC_{aggregation}";
                    if (columns.Any(c => c.Metrics.ContainsKey(key)))
                    {
                        table.AddRow(
                            new[] { $"  by {aggregation.Replace('_', ' ')}" }
                                .Concat(columns.Select(c => c.Metrics.TryGetValue(key, out var v) ? Format(v) : "-"))
                                .ToArray()
                        );
                    }
                }
            }
        }

        console.Write(table);
    }

    public static string Format(double value) =>
        double.IsNaN(value) ? "n/a" : value.ToString("F4", CultureInfo.InvariantCulture);

    public static void WriteMetrics(string path, IReadOnlyDictionary<string, double> metrics)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var values = metrics.ToDictionary(m => m.Key, m => double.IsNaN(m.Value) ? (double?)null : m.Value);
        AtomicFile.WriteAllText(
            path,
            JsonSerializer.Serialize(values, new JsonSerializerOptions { WriteIndented = true })
        );
    }

    public static void WriteImageResults(string path, IEnumerable<ImageResult> images)
    {
        var csv = new StringBuilder("path,ground_truth,defect_type,score,raw_score,predicted_label\n");
        foreach (var r in images)
        {
            csv.Append(
                CultureInfo.InvariantCulture,
                $"{Quote(r.Path)},{r.GroundTruth},{Quote(r.DefectType)},{r.Score:R},{r.RawScore:R},"
                    + $"{(r.PredictedLabel ? 1 : 0)}\n"
            );
        }

        AtomicFile.WriteAllText(path, csv.ToString());
    }

    /// <summary>A CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.</summary>
    public static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
