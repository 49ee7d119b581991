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
/// Draws one picture per image as anomalib's visualizer does — titled panels: image | ground truth | heat map over
/// the image | predicted mask | segmentation (outline and boxes) — with the score, the labels, both thresholds and
/// the heat map's colour scale written under them. Optionally writes the raw heat map and mask too.
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
    public IReadOnlyList<string> Save(
        AnomalySample sample,
        ImageResult result,
        Tensor image,
        Tensor truth,
        Tensor map,
        Tensor predicted
    )
    {
        bool wrong = result.GroundTruth >= 0 && (result.GroundTruth == 1) != result.PredictedLabel;
        if (_options.PlotOnlyWrong && !wrong)
        {
            return Array.Empty<string>();
        }

        using var scope = NewDisposeScope();
        var directory = Path.Combine(_options.VisualizationDirectory!, sample.DefectType);
        var name = Path.GetFileNameWithoutExtension(sample.ImagePath);
        int factor = PictureSize.Factor(image.shape[^2], image.shape[^1]);
        var rgb = PictureSize.Image(image.cpu(), factor);
        var values = PictureSize.Peaks(map.cpu(), factor)[0];
        var predictedMask = PictureSize.Peaks(predicted.cpu(), factor)[0].gt(Scalars.Half);
        var (heat, scale) = HeatMap(values, _thresholds);
        var mask = predictedMask.to_type(ScalarType.Float32).expand(3, -1, -1);
        var panels = new List<(string, Tensor)>
        {
            ("image", rgb),
            ("ground truth", PictureSize.Peaks(truth.cpu(), factor).expand(3, -1, -1)),
            ("heat map over image", Overlay(rgb, heat)),
            ("predicted mask", mask),
            ("segmentation", Outline(rgb, predictedMask, values)),
        };
        string groundTruth = result.GroundTruth switch
        {
            1 => $"anomalous ({sample.DefectType})",
            0 => "normal",
            _ => "unknown",
        };
        var caption = new List<string>
        {
            $"{Path.GetFileName(sample.ImagePath)}: ground truth {groundTruth}; "
                + $"{Verdict(result.PredictedLabel, result.Score, _thresholds)}{(wrong ? "  -- WRONG" : string.Empty)}",
            MapLine(values, _thresholds),
        };
        var files = new List<string> { Path.Combine(directory, name + ".png") };
        PanelRenderer.Write(files[0], panels, caption, scale);
        if (_options.RawOutputs)
        {
            files.Add(Path.Combine(directory, name + "_heatmap.png"));
            ImageIO.WriteImage(files[^1], heat);
            files.Add(Path.Combine(directory, name + "_mask.png"));
            ImageIO.WriteImage(files[^1], predicted.cpu().to_type(ScalarType.Float32));
        }

        return files;
    }

    /// <summary>
    /// The picture of one prediction: image, heat map over it and predicted mask, with the verdict, the map's meaning
    /// and the colour scale.
    /// </summary>
    internal static void SavePrediction(
        string path,
        Tensor image,
        ImagePrediction prediction,
        string name,
        ScoreThresholds thresholds
    )
    {
        using var scope = NewDisposeScope();
        int factor = PictureSize.Factor(image.shape[^2], image.shape[^1]);
        var map = PictureSize.Peaks(prediction.AnomalyMap.cpu(), factor)[0];
        var rgb = PictureSize.Image(image.cpu(), factor);
        var (heat, scale) = HeatMap(map, thresholds);
        var panels = new List<(string, Tensor)>
        {
            ("image", rgb),
            ("heat map over image", Overlay(rgb, heat)),
            ("predicted mask", PictureSize.Peaks(prediction.Mask.cpu(), factor).expand(3, -1, -1)),
        };
        var caption = new[]
        {
            string.Create(
                CultureInfo.InvariantCulture,
                $"{name}: {Verdict(prediction.Label, prediction.Score, thresholds)} (raw score "
                    + $"{prediction.RawScore:0.####})"
            ),
            MapLine(map, thresholds),
        };
        PanelRenderer.Write(path, panels, caption, scale);
    }

    /// <summary>"predicted ANOMALOUS, score 0.583 against image threshold 0.5".</summary>
    private static string Verdict(bool label, double score, ScoreThresholds thresholds) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"predicted {(label ? "ANOMALOUS" : "normal")}, score {score:0.000} against image threshold "
                + $"{thresholds.Describe(thresholds.Image)}"
        );

    /// <summary>What the heat map shows and how the mask follows from it.</summary>
    private static string MapLine(Tensor map, ScoreThresholds thresholds)
    {
        using var largest = map.max();
        return string.Create(
            CultureInfo.InvariantCulture,
            $"heat map: the {(thresholds.Normalized ? "normalized " : string.Empty)}anomaly map, largest here "
                + $"{largest.item<float>():0.###}; predicted mask: map >= pixel threshold "
                + $"{thresholds.Describe(thresholds.Pixel)}"
        );
    }

    /// <summary>
    /// The jet colours of a map [H, W] and their scale: 0 to 1 for normalized maps (the pixel threshold in the middle),
    /// the map's own range otherwise.
    /// </summary>
    private static (Tensor Colours, ColourScale Scale) HeatMap(Tensor map, ScoreThresholds thresholds)
    {
        using var scope = NewDisposeScope();
        double low = 0,
            high = 1;
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
    private static Tensor Overlay(Tensor rgb, Tensor heat)
    {
        using var scope = NewDisposeScope();
        return rgb.add(heat, Scalars.One).mul_(Scalars.Half).MoveToOuterDisposeScope();
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
