using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Prediction;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Visualization;

/// <summary>
/// Draws one picture per image as anomalib's visualizer does — titled panels: image | ground truth | heat map over the
/// image | predicted mask | segmentation (outline and boxes) — with the score, the labels, both thresholds and the heat
/// map's colour scale written under them. Optionally writes the raw heat map and mask too.
/// </summary>
internal sealed class Visualizer
{
    private readonly EvaluationOptions _options;
    private readonly ScoreThresholds _thresholds;

    public Visualizer(EvaluationOptions options, ScoreThresholds thresholds)
    {
        _options = options;
        _thresholds = thresholds;
    }

    /// <summary>Writes the picture (and raw outputs) for one image; returns the files written.</summary>
    public IReadOnlyList<string> Save(AnomalySample sample, ImageResult result, Tensor image, Tensor truth, Tensor map, Tensor predicted)
    {
        bool wrong = result.GroundTruth >= 0 && (result.GroundTruth == 1) != result.PredictedLabel;
        if (_options.PlotOnlyWrong && !wrong)
        {
            return Array.Empty<string>();
        }

        using var scope = NewDisposeScope();
        var directory = Path.Combine(_options.VisualizationDirectory!, sample.DefectType);
        var name = Path.GetFileNameWithoutExtension(sample.ImagePath);
        var rgb = image.to_type(ScalarType.Float32).cpu();
        var values = map.cpu()[0];
        var (heat, scale) = HeatMap(values, _thresholds);
        var mask = predicted.cpu().to_type(ScalarType.Float32).expand(3, -1, -1);
        var panels = new List<(string, Tensor)>
        {
            ("image", rgb),
            ("ground truth", truth.cpu().to_type(ScalarType.Float32).expand(3, -1, -1)),
            ("heat map over image", Overlay(rgb, heat)),
            ("predicted mask", mask),
            ("segmentation", Outline(rgb, predicted.cpu()[0], values)),
        };
        string groundTruth = result.GroundTruth switch { 1 => $"anomalous ({sample.DefectType})", 0 => "normal", _ => "unknown" };
        var caption = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(sample.ImagePath)}: ground truth {groundTruth}; predicted {(result.PredictedLabel ? "ANOMALOUS" : "normal")}, score {result.Score:0.000} against image threshold {_thresholds.Describe(_thresholds.Image)}{(wrong ? "  -- WRONG" : string.Empty)}"),
            string.Create(CultureInfo.InvariantCulture, $"heat map: the {(_thresholds.Normalized ? "normalized " : string.Empty)}anomaly map, largest here {values.max().item<float>():0.###}; predicted mask: map >= pixel threshold {_thresholds.Describe(_thresholds.Pixel)}"),
        };
        var files = new List<string> { Path.Combine(directory, name + ".png") };
        PanelRenderer.Write(files[0], panels, caption, scale);
        if (_options.RawOutputs)
        {
            files.Add(Path.Combine(directory, name + "_heatmap.png"));
            ImageIO.WriteImage(files[^1], heat);
            files.Add(Path.Combine(directory, name + "_mask.png"));
            ImageIO.WriteImage(files[^1], mask[..1]);
        }

        return files;
    }

    /// <summary>
    /// The jet colours of a map [H, W] and their scale: 0 to 1 for normalized maps (the pixel threshold in the middle),
    /// the map's own range otherwise.
    /// </summary>
    internal static (Tensor Colours, ColourScale Scale) HeatMap(Tensor map, ScoreThresholds thresholds)
    {
        using var scope = NewDisposeScope();
        double low = 0, high = 1;
        var unit = map;
        if (!thresholds.Normalized)
        {
            low = map.min().item<float>();
            high = Math.Max(map.max().item<float>(), low + 1e-12);
            using var shift = low.ToScalar();
            using var span = (high - low).ToScalar();
            unit = map.sub(shift).div(span);
        }

        var label = thresholds.Normalized ? "normalized anomaly map" : "anomaly map (raw)";
        return (Colormap.Jet(unit).MoveToOuterDisposeScope(), new ColourScale(label, low, high, thresholds.Pixel));
    }

    /// <summary>The heat map laid over the image at half opacity.</summary>
    internal static Tensor Overlay(Tensor rgb, Tensor heat)
    {
        using var scope = NewDisposeScope();
        return rgb.add(heat).mul_(Scalars.Half).MoveToOuterDisposeScope();
    }

    /// <summary>The image with the mask's boundary in red and each region's box in yellow.</summary>
    private static Tensor Outline(Tensor rgb, Tensor mask, Tensor map)
    {
        using var scope = NewDisposeScope();
        var m = mask.to_type(ScalarType.Float32).unsqueeze(0).unsqueeze(0);
        var eroded = -F.max_pool2d(-m, 3, stride: 1, padding: 1);
        var border = (m - eroded).gt(Scalars.Zero)[0, 0];
        var result = rgb.clone();
        result[0] = where(border, 1f, result[0]);
        result[1] = where(border, 0f, result[1]);
        result[2] = where(border, 0f, result[2]);
        foreach (var box in BoxFinder.Find(map, mask))
        {
            foreach (var (channel, value) in new[] { (0, 1f), (1, 1f), (2, 0f) })
            {
                result[channel, box.Y1, box.X1..box.X2] = value;
                result[channel, box.Y2 - 1, box.X1..box.X2] = value;
                result[channel, box.Y1..box.Y2, box.X1] = value;
                result[channel, box.Y1..box.Y2, box.X2 - 1] = value;
            }
        }

        return result.MoveToOuterDisposeScope();
    }
}
