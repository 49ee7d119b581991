using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using TiledEnsemble.Visualization;

namespace TiledEnsemble.Evaluation.Report;

/// <summary>
/// <c>report.html</c>: one self-contained page (charts and thumbnails embedded as data URIs, full pictures linked) with
/// the metrics, the ROC and PRO curves, the score histogram with the threshold, and galleries of the anomalous images
/// scored lowest and the normal images scored highest — the misses and false alarms first.
/// </summary>
internal static class HtmlReport
{
    public const string FileName = "report.html";

    private static readonly string[] MetricOrder =
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

    public static string Write(
        string directory,
        EvaluationResult result,
        EvaluationOptions options,
        ScoreThresholds thresholds,
        string title,
        IReadOnlyList<(string Name, string Value)> about
    )
    {
        Directory.CreateDirectory(directory);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Encode(title))
            .Append("</title>\n<style>")
            .Append(
                "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}"
                    + "table{border-collapse:collapse;margin:8px 0 16px}"
            )
            .Append(
                "td,th{border:1px solid #ccc;padding:4px "
                    + "10px;text-align:left}td.value{text-align:right;font-variant-numeric:tabular-nums}"
            )
            .Append(
                ".charts img{margin:4px;border:1px solid #ddd}.gallery "
                    + "figure{display:inline-block;margin:6px;max-width:560px;vertical-align:top}"
            )
            .Append(
                ".gallery img{max-width:560px;border:1px solid "
                    + "#ddd}.wrong{color:#b00;font-weight:bold}figcaption{font-size:13px}"
            )
            .Append("</style></head><body>\n<h1>")
            .Append(Encode(title))
            .Append("</h1>\n");

        html.Append("<table id=\"about\">");
        foreach (var (name, value) in about)
        {
            html.Append("<tr><th>").Append(Encode(name)).Append("</th><td>").Append(Encode(value)).Append("</td></tr>");
        }

        html.Append("</table>\n<h2>Metrics</h2>\n<table id=\"metrics\"><tr><th>metric</th><th>value</th></tr>");
        foreach (
            var key in MetricOrder
                .Where(result.Metrics.ContainsKey)
                .Concat(result.Metrics.Keys.Except(MetricOrder).OrderBy(k => k, StringComparer.Ordinal))
        )
        {
            double value = result.Metrics[key];
            string text = double.IsNaN(value) ? "n/a" : value.ToString("F4", CultureInfo.InvariantCulture);
            string raw = double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);
            html.Append("<tr><td>")
                .Append(key)
                .Append("</td><td class=\"value\" data-metric=\"")
                .Append(key)
                .Append("\" data-value=\"")
                .Append(raw)
                .Append("\">")
                .Append(text)
                .Append("</td></tr>");
        }

        html.Append("</table>\n<p>Scores are compared with the image threshold (")
            .Append(thresholds.Describe(thresholds.Image))
            .Append("), anomaly maps with the pixel threshold (")
            .Append(thresholds.Describe(thresholds.Pixel))
            .Append(")")
            .Append(
                thresholds.Normalized
                    ? "; both are normalized so that each threshold lands at the same value, separately for scores "
                        + "and maps."
                    : "."
            )
            .Append(" F1 uses the thresholds chosen on the validation split.</p>\n");

        html.Append("<h2>Curves</h2>\n<div class=\"charts\">");
        var curves = result.Curves;
        AppendChart(
            html,
            "image-roc",
            curves is null
                ? null
                : ReportCharts.Curve(
                    $"Image ROC (AUROC {Metric(result, "image_AUROC")})",
                    curves.ImageRoc,
                    "false-positive rate (normal images)",
                    "true-positive rate (anomalous images)"
                ),
            "Image ROC curve"
        );
        AppendChart(
            html,
            "pixel-roc",
            curves is null
                ? null
                : ReportCharts.Curve(
                    $"Pixel ROC (AUROC {Metric(result, "pixel_AUROC")})",
                    curves.PixelRoc,
                    "false-positive rate (normal pixels)",
                    "true-positive rate (defect pixels)"
                ),
            "Pixel ROC curve"
        );
        AppendChart(
            html,
            "pro",
            curves is null
                ? null
                : ReportCharts.Curve(
                    $"PRO up to FPR {curves.FprLimit:0.##} (AUPRO {Metric(result, "pixel_AUPRO")})",
                    Clip(curves.Pro, curves.FprLimit),
                    "false-positive rate (normal pixels)",
                    "per-region overlap",
                    curves.FprLimit,
                    diagonal: false
                ),
            "PRO curve"
        );
        AppendChart(
            html,
            "histogram",
            ReportCharts.ScoreHistogram(result.Images, thresholds.Image),
            "Score histogram of normal and anomalous images with the image threshold"
        );
        html.Append("</div>\n");

        var pictures = result
            .Pictures.Where(p =>
                p.EndsWith(".png", StringComparison.Ordinal)
                && !p.EndsWith("_heatmap.png", StringComparison.Ordinal)
                && !p.EndsWith("_mask.png", StringComparison.Ordinal)
            )
            .ToDictionary(
                p => (Path.GetFileName(Path.GetDirectoryName(p)) ?? string.Empty, Path.GetFileNameWithoutExtension(p)),
                p => p
            );
        Gallery(
            html,
            "missed",
            "Anomalous images scored lowest (misses first)",
            result.Images.Where(i => i.GroundTruth == 1).OrderBy(i => i.Score).Take(options.ReportGallerySize),
            pictures,
            directory,
            thresholds
        );
        Gallery(
            html,
            "false-alarms",
            "Normal images scored highest (false alarms first)",
            result
                .Images.Where(i => i.GroundTruth == 0)
                .OrderByDescending(i => i.Score)
                .Take(options.ReportGallerySize),
            pictures,
            directory,
            thresholds
        );
        html.Append("</body></html>\n");

        var path = Path.Combine(directory, FileName);
        AtomicFile.WriteAllText(path, html.ToString());
        return path;
    }

    private static void Gallery(
        StringBuilder html,
        string id,
        string heading,
        IEnumerable<ImageResult> images,
        Dictionary<(string, string), string> pictures,
        string directory,
        ScoreThresholds thresholds
    )
    {
        var list = images.ToList();
        html.Append("<h2>")
            .Append(Encode(heading))
            .Append("</h2>\n<div class=\"gallery\" id=\"")
            .Append(id)
            .Append("\">");
        if (list.Count == 0)
        {
            html.Append("<p>None in this set.</p>");
        }

        foreach (var image in list)
        {
            bool wrong = (image.GroundTruth == 1) != image.PredictedLabel;
            html.Append("<figure>");
            if (
                pictures.TryGetValue((image.DefectType, Path.GetFileNameWithoutExtension(image.Path)), out var picture)
                && File.Exists(picture)
            )
            {
                var link = Path.GetRelativePath(directory, picture).Replace('\\', '/');
                html.Append("<a href=\"")
                    .Append(Encode(Uri.EscapeDataString(link).Replace("%2F", "/")))
                    .Append("\"><img alt=\"")
                    .Append(Encode(Path.GetFileName(image.Path)))
                    .Append("\" src=\"data:image/png;base64,")
                    .Append(Convert.ToBase64String(File.ReadAllBytes(picture)))
                    .Append("\"></a>");
            }

            html.Append("<figcaption>")
                .Append(Encode($"{image.DefectType}/{Path.GetFileName(image.Path)}"))
                .Append(": score ")
                .Append(image.Score.ToString("0.000", CultureInfo.InvariantCulture))
                .Append(" (threshold ")
                .Append(thresholds.Describe(thresholds.Image))
                .Append(") ")
                .Append(
                    wrong
                        ? "<span class=\"wrong\">" + (image.GroundTruth == 1 ? "missed" : "false alarm") + "</span>"
                        : "right"
                )
                .Append("</figcaption></figure>");
        }

        html.Append("</div>\n");
    }

    private static void AppendChart(StringBuilder html, string id, byte[]? png, string alt)
    {
        if (png is null)
        {
            html.Append("<p id=\"")
                .Append(id)
                .Append("\">")
                .Append(Encode(alt))
                .Append(": undefined for this set (one class only).</p>");
            return;
        }

        html.Append("<img id=\"")
            .Append(id)
            .Append("\" alt=\"")
            .Append(Encode(alt))
            .Append("\" src=\"data:image/png;base64,")
            .Append(Convert.ToBase64String(png))
            .Append("\">");
    }

    private static TiledEnsemble.Metrics.CurvePoints Clip(TiledEnsemble.Metrics.CurvePoints points, double limit)
    {
        int keep = points.FalsePositiveRate.Count(x => x <= limit);
        return new TiledEnsemble.Metrics.CurvePoints(
            points.FalsePositiveRate.Take(keep).ToArray(),
            points.TruePositiveRate.Take(keep).ToArray()
        );
    }

    private static string Metric(EvaluationResult result, string key) =>
        result.Metrics.TryGetValue(key, out var v) && !double.IsNaN(v)
            ? v.ToString("F4", CultureInfo.InvariantCulture)
            : "n/a";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
