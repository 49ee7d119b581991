using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using TiledEnsemble.Data.Synthetic;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

/// <summary>The evaluation report as a user sees it: opened in a real (headless) browser.</summary>
public sealed class ReportTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("report-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SkippableFact]
    public async Task TheReportShowsEveryChartAndPictureAndTheMetricsOfMetricsJson()
    {
        Skip.IfNot(
            HeadlessChromium.Available,
            $"{HeadlessChromium.Executable} is not installed (.ci/run installs Debian's chromium)"
        );
        TestRunFiles.WriteFabric(_root, 64, trainCount: 6, testGoodCount: 3, DefectKind.Spot, DefectKind.Cut);
        var config = TestRunFiles.WritePadimConfig(
            Path.Combine(_root, "config.yaml"),
            64,
            tile: 32,
            stride: 32,
            seed: 42
        );
        var run = Path.Combine(_root, "run");
        var (code, _, error) = CliProcess.Run(_root, "train", "--config", config, "--run-dir", run);
        Assert.True(code == CliApp.Ok, error);
        var report = Path.Combine(run, "report.html");
        Assert.True(File.Exists(report));

        await using var browser = await HeadlessChromium.StartAsync();
        var page = await browser.EvaluateAfterLoadAsync(
            new Uri(report).AbsoluteUri,
            "{ images: [...document.images].map(i => ({ id: i.id, alt: i.alt, loaded: i.complete && i.naturalWidth > "
                + "0, width: i.naturalWidth })), "
                + "metrics: Object.fromEntries([...document.querySelectorAll('[data-metric]')].map(e => "
                + "[e.dataset.metric, e.dataset.value])), "
                + "links: [...document.querySelectorAll('.gallery a')].map(a => a.href) }"
        );

        var images = page!["images"]!.AsArray();
        Assert.All(images, i => Assert.True(i!["loaded"]!.GetValue<bool>(), $"{i!["alt"]} did not load"));
        foreach (var chart in new[] { "image-roc", "pixel-roc", "pro", "histogram" })
        {
            Assert.Contains(images, i => i!["id"]!.GetValue<string>() == chart && i["width"]!.GetValue<int>() >= 400);
        }

        // Every anomalous and normal test image appears in a gallery (3 + 2 here), each linking to its picture.
        Assert.Equal(5, images.Count(i => i!["id"]!.GetValue<string>() == string.Empty));
        var links = page["links"]!.AsArray().Select(l => new Uri(l!.GetValue<string>()).LocalPath).ToList();
        Assert.Equal(5, links.Count);
        Assert.All(links, l => Assert.True(File.Exists(l), l));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var shown = page["metrics"]!.AsObject();
        Assert.Equal(metrics.RootElement.EnumerateObject().Count(), shown.Count);
        foreach (var metric in metrics.RootElement.EnumerateObject())
        {
            double expected = metric.Value.ValueKind == JsonValueKind.Null ? double.NaN : metric.Value.GetDouble();
            double actual = double.Parse(
                shown[metric.Name]!.GetValue<string>(),
                System.Globalization.CultureInfo.InvariantCulture
            );
            Assert.Equal(expected, actual);
        }
    }
}
