using System;
using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Export.Onnx;
using TiledEnsemble.Joining;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.PostProcessing;
using TiledEnsemble.Prediction;
using TiledEnsemble.Tiling;
using static TiledEnsemble.Export.Onnx.TensorProto.Types;

namespace TiledEnsemble.Export;

/// <summary>
/// A trained run's whole prediction as one ONNX graph: the image at the image size in, the tiles of every position cut,
/// ImageNet-normalized and passed through the shared backbone once, each position's model, its post-processing, the
/// join, the seam smoothing, the image score and the image-level post-processing — what
/// <see cref="EnsemblePredictor.Predict(TorchSharp.torch.Tensor)"/> computes at the image size.
/// </summary>
internal static class PipelineGraph
{
    public const string ImageInput = "image";

    /// <summary>Fills <paramref name="g"/> with the graph of <paramref name="predictor"/>.</summary>
    /// <exception cref="NotSupportedException">A stage or model has no ONNX form; the message names it.</exception>
    public static void Build(OnnxGraphBuilder g, EnsemblePredictor predictor, IProgress<EnsembleProgress>? progress)
    {
        var definition = predictor.Definition;
        CheckExportable(definition);
        var settings = definition.Settings;
        var grid = definition.Grid;
        long height = grid.ImageSize.Height,
            width = grid.ImageSize.Width,
            th = grid.TileSize.Height,
            tw = grid.TileSize.Width;
        int count = grid.Count;

        var image = g.Input(ImageInput, DataType.Float, "batch", 3, height, width);

        // Tiles of the zero-padded image (a grid that overhangs the image), normalized as the models normalize them.
        var covering = grid.CoversExactly
            ? image
            : g.Pad(
                image,
                new[] { 0, 0, 0, 0, 0, 0, grid.CoveringSize.Height - height, grid.CoveringSize.Width - width }
            );
        var cut = grid.Positions.Select(p =>
            g.Slice(covering, new long[] { p.Top, p.Left }, new[] { p.Top + th, p.Left + tw }, new long[] { 2, 3 })
        );
        var tiles = Normalize(g, g.Concat(0, cut.ToArray())); // [P·N, 3, th, tw], position-major

        var models = predictor.Models;
        IReadOnlyList<string> layers;
        using (var first = models.Load(grid.Positions[0]))
        {
            layers = Exportable(first).ExportLayers;
        }

        var backbone = models.Backbone;
        var features = backbone.ExportFeatures(g, tiles, layers, "backbone");
        var fitted = predictor.Pipeline;
        var joined = new List<(TilePosition, string, string, string?, string?)>();
        foreach (var position in grid.Positions)
        {
            int index = (position.Row * grid.Columns) + position.Column;
            var hint = $"r{position.Row}_c{position.Column}";
            var mine = g.ScalarIndex($"{hint}.index", index);
            var positionTiles = g.Gather(g.Reshape(tiles, count, -1, 3, th, tw), mine, 0);
            var positionFeatures = features
                .Select(
                    (f, i) =>
                    {
                        long stride = BackboneNames.Stride(layers[i]);
                        long channels = BackboneNames.Channels(backbone.Kind, layers[i]);
                        return g.Gather(g.Reshape(f, count, -1, channels, th / stride, tw / stride), mine, 0);
                    }
                )
                .ToArray();
            string maps,
                scores;
            using (var model = models.Load(position))
            {
                (maps, scores) = Exportable(model).ExportHead(g, positionTiles, positionFeatures, th, tw, hint);
            }

            string? masks = null,
                labels = null;
            if (fitted.PositionProcessor(index) is PositionStandardizer standardizer)
            {
                (maps, scores) = standardizer.Export(g, maps, scores, $"{hint}.calibration");
            }
            else if (fitted.PositionProcessor(index) is { } processor)
            {
                (maps, scores, masks, labels) = Calibrated(processor)
                    .Export(g, maps, scores, null, null, $"{hint}.post");
            }

            joined.Add((position, maps, scores, masks, labels));
            progress?.Report(
                new EnsembleProgress(EnsembleStage.Exporting, index + 1, grid.Count + 1, $"position {hint}")
            );
        }

        var join = Joiner.Export(g, joined, grid, "join");
        var smoothed = definition.SeamSmoother is SeamSmoother smoother
            ? smoother.Export(g, join.Maps, grid, "seams")
            : join.Maps;
        var imageScores = Aggregate(
            g,
            settings.ImageScore,
            settings.ImageScoreTopK,
            joined.Select(j => j.Item3).ToArray(),
            join.Scores,
            smoothed,
            grid
        );
        var final = (Maps: smoothed, Scores: imageScores, join.Masks, join.Labels);
        if (fitted.ImageProcessor is { } imageProcessor)
        {
            final = Calibrated(imageProcessor).Export(g, smoothed, imageScores, join.Masks, join.Labels, "image.post");
        }

        g.Output(final.Maps, "anomaly_map", DataType.Float, "batch", 1, height, width);
        g.Output(final.Scores, "score", DataType.Float, "batch");
        g.Output(imageScores, "raw_score", DataType.Float, "batch");
        g.Output(final.Masks ?? throw NoThreshold(definition), "mask", DataType.Bool, "batch", 1, height, width);
        g.Output(final.Labels ?? throw NoThreshold(definition), "label", DataType.Bool, "batch");
    }

    /// <summary>The graph's inputs and outputs, as the manifest describes them.</summary>
    public static (Dictionary<string, string> Inputs, Dictionary<string, string> Outputs) Contract(TileGrid grid)
    {
        string size = $"{grid.ImageSize.Height}, {grid.ImageSize.Width}";
        var inputs = new Dictionary<string, string>
        {
            [ImageInput] = $"float32 [batch, 3, {size}]: RGB in [0, 1] at the image size",
        };
        var outputs = new Dictionary<string, string>
        {
            ["anomaly_map"] =
                $"float32 [batch, 1, {size}]: the final (normalized unless normalization is off) anomaly map",
            ["score"] = "float32 [batch]: the final image score",
            ["raw_score"] = "float32 [batch]: the image score before image-level post-processing",
            ["mask"] = $"bool [batch, 1, {size}]: the predicted mask",
            ["label"] = "bool [batch]: the predicted label (true is anomalous)",
        };
        return (inputs, outputs);
    }

    /// <summary>Refuses stages that have no ONNX form, by name.</summary>
    public static void CheckExportable(EnsembleDefinition definition)
    {
        void Require(string role, bool exportable)
        {
            if (!exportable)
            {
                throw new NotSupportedException(
                    $"The {role} '{definition.Stages[role]}' has no ONNX form: only the library's own stages are "
                        + "exported. Predict this run with TiledEnsemble (EnsemblePredictor) instead."
                );
            }
        }

        Require(StageRoles.Tiler, definition.Tiler is EnsembleTiler);
        Require(StageRoles.Joiner, definition.Joiner is Joiner);
        Require(StageRoles.SeamSmoother, definition.SeamSmoother is null or SeamSmoother);
        Require(StageRoles.PostProcessor, definition.PostProcessor is PostProcessor);
        Require(StageRoles.Model, definition.Model.IsBuiltIn);
    }

    private static IOnnxExportable Exportable(IAnomalyModel model) =>
        model as IOnnxExportable
        ?? throw new NotSupportedException($"The model '{model.Name}' has no ONNX form yet; it cannot be exported.");

    private static CalibratedPostProcessor Calibrated(IFittedPostProcessor fitted) =>
        fitted as CalibratedPostProcessor
        ?? throw new NotSupportedException("Only the library's post-processor is exported.");

    private static InvalidOperationException NoThreshold(EnsembleDefinition definition) =>
        new($"The post-processor '{definition.PostProcessor.Identity}' gives no masks or labels.");

    /// <summary>ImageNet normalization as <c>ImageNet.Normalize</c> does it: subtract the mean, divide by the
    /// deviation.</summary>
    private static string Normalize(OnnxGraphBuilder g, string images)
    {
        var mean = g.Initializer("imagenet.mean", new[] { 0.485f, 0.456f, 0.406f }, 1, 3, 1, 1);
        var std = g.Initializer("imagenet.std", new[] { 0.229f, 0.224f, 0.225f }, 1, 3, 1, 1);
        return g.Div(g.Sub(images, mean), std);
    }

    /// <summary>The image scores of an aggregation (see <see cref="ImageScores.Aggregate"/>).</summary>
    private static string Aggregate(
        OnnxGraphBuilder g,
        ImageScoreAggregation aggregation,
        int topK,
        string[] positionScores,
        string meanOfPositions,
        string maps,
        TileGrid grid
    )
    {
        string Stacked() => g.Concat(0, positionScores.Select(s => g.Unsqueeze(s, 0)).ToArray());
        long pixels = (long)grid.ImageSize.Height * grid.ImageSize.Width;
        return aggregation switch
        {
            ImageScoreAggregation.MeanOfPositions => meanOfPositions,
            ImageScoreAggregation.MaxOfPositions => g.Reduce("ReduceMax", Stacked(), keepDims: false, 0),
            ImageScoreAggregation.MaxOfMap => g.Reduce("ReduceMax", maps, keepDims: false, 1, 2, 3),
            ImageScoreAggregation.TopKMeanOfMap => g.Reduce(
                "ReduceMean",
                g.TopK(g.Reshape(maps, -1, pixels), Math.Min(topK, pixels), 1, largest: true).Values,
                keepDims: false,
                1
            ),
            _ => throw new NotSupportedException($"The image-score aggregation {aggregation} has no ONNX form."),
        };
    }
}
