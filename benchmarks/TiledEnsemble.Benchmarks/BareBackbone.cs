using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TiledEnsemble.Export;
using TiledEnsemble.Export.Onnx;
using TiledEnsemble.Models;
using TiledEnsemble.Prediction;
using static TiledEnsemble.Export.Onnx.TensorProto.Types;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The least an exported ensemble's graph can cost under ONNX Runtime: a run's own backbone, to the layers its models
/// read, alone in a graph, over as many tiles as the ensemble cuts (every position of every image), in the same
/// runtime with the same options.
/// </summary>
internal sealed class BareBackbone : IDisposable
{
    private readonly InferenceSession _session;
    private readonly int _positions;
    private readonly int _tileHeight;
    private readonly int _tileWidth;

    private BareBackbone(InferenceSession session, int positions, int tileHeight, int tileWidth)
    {
        _session = session;
        _positions = positions;
        _tileHeight = tileHeight;
        _tileWidth = tileWidth;
    }

    public static BareBackbone Create(string run, int threads)
    {
        using var predictor = EnsemblePredictor.Load(run, new EnsembleLoadOptions { Device = "cpu" });
        var grid = predictor.Grid;
        IReadOnlyList<string> layers;
        using (var first = predictor.Models.Load(grid.Positions[0]))
        {
            layers = ((IOnnxExportable)first).ExportLayers;
        }

        var g = new OnnxGraphBuilder();
        var tiles = g.Input("tiles", DataType.Float, "tiles", 3, grid.TileSize.Height, grid.TileSize.Width);
        var features = predictor.Models.Backbone.ExportFeatures(g, tiles, layers, "backbone");
        for (int i = 0; i < features.Length; i++)
        {
            g.Output(features[i], $"features{i}", DataType.Float, "tiles", $"c{i}", $"h{i}", $"w{i}");
        }

        var model = g.ToModel("TiledEnsemble.Benchmarks");
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
        };
        var session = new InferenceSession(model.ToByteArray(), options);
        return new BareBackbone(session, grid.Count, grid.TileSize.Height, grid.TileSize.Width);
    }

    /// <summary>Seeded inputs for <paramref name="images"/> images' tiles.</summary>
    public DenseTensor Tiles(int images)
    {
        int count = images * _positions;
        var random = new Random(7);
        var values = new float[count * 3 * _tileHeight * _tileWidth];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return new DenseTensor(values, new[] { count, 3, _tileHeight, _tileWidth });
    }

    public void Run(DenseTensor tiles)
    {
        using var outputs = _session.Run(new[] { NamedOnnxValue.CreateFromTensor("tiles", tiles) });
        _ = outputs.Count;
    }

    public void Dispose() => _session.Dispose();
}
