using System;
using System.Collections.Generic;
using System.IO;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Metrics;
using TiledEnsemble.Prediction;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Visualization;

/// <summary>
/// Draws one PNG panel per image as anomalib's visualizer does: image | ground-truth mask | heat map over the image |
/// predicted mask | segmentation outline and boxes on the image. Optionally writes the raw heat map and mask too.
/// </summary>
internal sealed class Visualizer
{
    private readonly EvaluationOptions _options;

    public Visualizer(EvaluationOptions options) => _options = options;

    /// <summary>Writes the panel (and raw outputs) for one image; returns the files written.</summary>
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
        var heat = Colormap.Jet(map.cpu()[0].clamp(Scalars.Zero, Scalars.One));
        var overlay = rgb.add(heat).mul_(Scalars.Half);
        var mask = predicted.cpu().to_type(ScalarType.Float32);
        var outline = Outline(rgb, predicted.cpu()[0], map.cpu()[0]);
        var gap = ones(3, rgb.shape[1], 4);
        var panel = cat(new[] { rgb, gap, truth.cpu().expand(3, -1, -1), gap, overlay, gap, mask.expand(3, -1, -1), gap, outline }, 2);
        var files = new List<string> { Path.Combine(directory, name + ".png") };
        ImageIO.WriteImage(files[0], panel);
        if (_options.RawOutputs)
        {
            files.Add(Path.Combine(directory, name + "_heatmap.png"));
            ImageIO.WriteImage(files[^1], heat);
            files.Add(Path.Combine(directory, name + "_mask.png"));
            ImageIO.WriteImage(files[^1], mask);
        }

        return files;
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
