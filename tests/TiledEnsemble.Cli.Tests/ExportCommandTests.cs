using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Cli;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Deployment;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// <c>export</c>, the config's <c>export</c> section, and <c>predict</c> on an export: the same outputs as on the run,
/// with ONNX Runtime predicting.
/// </summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cli-export-").FullName;

    public ExportCommandTests() =>
        TestRunFiles.WriteFabric(_root, 64, trainCount: 6, testGoodCount: 3, DefectKind.Spot, DefectKind.Cut);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task TrainingExportsWhenTheConfigSaysSoAndPredictOnTheExportWritesWhatTheRunWrites()
    {
        var config = Path.Combine(_root, "config.yaml");
        File.WriteAllText(
            config,
            """
            seed: 1
            default_root_dir: results
            tiling:
              image_size: 64
              tile_size: 32
              stride: 16
            data:
              class_path: anomalib.data.MVTecAD
              init_args:
                root: data
                category: fabric
                train_batch_size: 4
                eval_batch_size: 4
                num_workers: 1
            TrainModels:
              model:
                class_path: Padim
                init_args:
                  n_features: 10
            export:
              types: [onnx]
            """
        );
        var (code, output, error) = await Run("train", "--config", config, "--no-test");
        Assert.True(code == 0, error);
        var run = Path.Combine(_root, "results", "Padim", "MVTecAD", "fabric", "run0");
        var export = Path.Combine(run, "export");
        Assert.Contains(Path.Combine(export, "model.onnx"), output);
        Assert.True(File.Exists(Path.Combine(export, "manifest.json")));

        // The export command writes the same graph elsewhere, and refuses the run folder itself as its output.
        var again = Path.Combine(_root, "again");
        Assert.Equal(0, (await Run("export", "--root", run, "--output", again)).Code);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(export, "model.onnx")),
            File.ReadAllBytes(Path.Combine(again, "model.onnx"))
        );
        Assert.Equal(CliApp.UsageError, (await Run("export", "--root", run, "--output", run)).Code);
        var notEmpty = await Run("export", "--root", run, "--output", again);
        Assert.Equal(CliApp.RuntimeError, notEmpty.Code);
        Assert.Contains("not empty", notEmpty.Error);

        var images = Path.Combine(_root, "data", "fabric", "test", "spot");
        var fromRun = Path.Combine(_root, "from-run");
        var fromExport = Path.Combine(_root, "from-export");
        Assert.Equal(0, (await Run("predict", "--root", run, "--input", images, "--output", fromRun)).Code);
        var (predictCode, _, predictError) = await Run(
            "predict",
            "--root",
            export,
            "--input",
            images,
            "--output",
            fromExport
        );
        Assert.True(predictCode == 0, predictError);
        var rows = File.ReadAllLines(Path.Combine(fromRun, "predictions.csv"));
        var exportedRows = File.ReadAllLines(Path.Combine(fromExport, "predictions.csv"));
        Assert.Equal(rows.Length, exportedRows.Length);
        double threshold;
        using (var deployed = DeployedEnsemble.Load(export))
        {
            threshold = deployed.ImageThreshold ?? throw new InvalidOperationException("the export has no threshold");
        }
        foreach (var (a, b) in rows.Skip(1).Zip(exportedRows.Skip(1)))
        {
            var x = a.Split(',');
            var y = b.Split(',');
            Assert.Equal(x[0], y[0]);
            double score = double.Parse(x[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(score, double.Parse(y[2], System.Globalization.CultureInfo.InvariantCulture), 4);
            // The F1-adaptive threshold is one image's score: that image sits on it, and the engines' last bits decide.
            Assert.True(
                x[3] == y[3] || Math.Abs(score - threshold) <= 1e-4,
                $"{x[0]}: label {x[3]} from the run, {y[3]} from the export (score {score}, threshold {threshold})"
            );
        }

        Assert.True(File.Exists(Path.Combine(fromExport, "000.png_heatmap.png")));
        // The maps written by both engines: same shape, same values (ONNX Runtime's float32 kernels differ from
        // libtorch's in the last bits).
        var (runHeader, runMap) = NpyWriterTests.Read(Path.Combine(fromRun, "000.png.npy"));
        var (exportHeader, exportMap) = NpyWriterTests.Read(Path.Combine(fromExport, "000.png.npy"));
        Assert.Equal(runHeader, exportHeader);
        Assert.Equal(64 * 64, exportMap.Length);
        Assert.True(runMap.Max() > runMap.Min(), "the run's map is flat");
        for (int i = 0; i < runMap.Length; i++)
        {
            Assert.True(
                Math.Abs(runMap[i] - exportMap[i]) <= 1e-3 * Math.Max(1, Math.Abs(runMap[i])),
                $"map value {i}: {runMap[i]} from the run against {exportMap[i]} from the export"
            );
        }

        // eval on the export gives the run's metrics (training thresholds); recomputed thresholds give the F1-best.
        Assert.Equal(0, (await Run("eval", "--config", config, "--root", run)).Code);
        var (evalCode, evalOutput, evalError) = await Run("eval", "--config", config, "--root", export);
        Assert.True(evalCode == 0, evalError);
        Assert.Contains("the training thresholds", evalOutput);
        var fromRunMetrics = Metrics(Path.Combine(run, "evaluation", "metrics.json"));
        var fromExportMetrics = Metrics(Path.Combine(export, "evaluation", "metrics.json"));
        // Not image_F1: with validation same as test, one test image's score is the threshold, and the engines' last
        // bits put it on either side (its label is compared above).
        foreach (var key in new[] { "image_AUROC", "pixel_AUROC", "pixel_AUPRO", "image_TPR_at_5pct_FPR" })
        {
            Assert.True(
                Math.Abs(fromRunMetrics[key] - fromExportMetrics[key]) <= 1e-3,
                $"{key}: {fromRunMetrics[key]} against {fromExportMetrics[key]}"
            );
        }

        var recomputed = await Run("eval", "--config", config, "--root", export, "--recompute-thresholds");
        Assert.True(recomputed.Code == 0, recomputed.Error);
        Assert.Contains("thresholds recomputed on the evaluated images", recomputed.Output);
        var best = Metrics(Path.Combine(export, "evaluation", "metrics.json"));
        Assert.True(best["image_F1"] >= fromExportMetrics["image_F1"]);
        Assert.Equal(fromExportMetrics["image_AUROC"], best["image_AUROC"]);
        Assert.Equal(
            CliApp.UsageError,
            (await Run("eval", "--config", config, "--root", run, "--recompute-thresholds")).Code
        );
    }

    /// <summary>metrics.json, undefined metrics (written as null) as NaN.</summary>
    private static System.Collections.Generic.Dictionary<string, double> Metrics(string path) =>
        System
            .Text.Json.JsonSerializer.Deserialize<System.Collections.Generic.Dictionary<string, double?>>(
                File.ReadAllText(path)
            )!
            .ToDictionary(m => m.Key, m => m.Value ?? double.NaN);

    [Fact]
    public async Task AnUnknownExportTypeIsAConfigurationError()
    {
        var config = Path.Combine(_root, "bad.yaml");
        File.WriteAllText(config, "export:\n  types: [torchscript]\n");
        var (code, _, error) = await Run("train", "--config", config);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("export.types holds 'torchscript'; allowed: onnx", error);
    }
}
