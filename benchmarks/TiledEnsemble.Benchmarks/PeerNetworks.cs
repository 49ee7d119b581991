using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Pretrained;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// The two sides of the peer benchmarks: the ImageNet ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18 as the
/// library's backbone (its converted weights) and as ONNX Runtime sessions on the same graph cut after a layer's last
/// ReLU (dynamic batch and size, 2 intra-op threads as the library uses, all graph optimizations).
/// </summary>
internal sealed class PeerNetworks : IDisposable
{
    private readonly byte[] _graph;
    private readonly ConvertedBackbone _converted;

    private PeerNetworks(byte[] graph, ConvertedBackbone converted, ResNet backbone)
    {
        _graph = graph;
        _converted = converted;
        Backbone = backbone;
    }

    /// <summary>The library's backbone with the graph's weights.</summary>
    public ResNet Backbone { get; }

    /// <summary>
    /// Converts the graph's weights for the library and applies the allocator's prediction setting, as
    /// <c>Ensemble.Load</c> does before predicting (freed blocks are kept for the next batch).
    /// </summary>
    public static PeerNetworks Load()
    {
        TiledEnsemble.Hosting.NativeAllocator.BeginPrediction(
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
        );
        var folder = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        var modelPath = Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx");
        // The graph's own input convention on both sides (the library folds it for its normalized input; same
        // arithmetic).
        var converted = CntkResNet18.Convert(
            modelPath,
            Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"),
            "0.23.1",
            foldPreprocessing: false
        );
        var weights = Path.Combine(Path.GetTempPath(), $"peer-{Guid.NewGuid():N}.safetensors");
        converted.Save(weights);
        try
        {
            return new PeerNetworks(
                File.ReadAllBytes(modelPath),
                converted,
                BackboneWeights.Load(BackboneKind.ResNet18, weights, out _)
            );
        }
        finally
        {
            File.Delete(weights);
        }
    }

    /// <summary>An ONNX Runtime session on the graph up to <paramref name="layer"/>'s output.</summary>
    public InferenceSession Session(string layer)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = get_num_threads(),
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(OnnxGraphCutter.Cut(_graph, _converted.LayerOutputs[layer], 3), options);
    }

    /// <summary>Fails unless both sides give the same <paramref name="layer"/> features for
    /// <paramref name="input"/>.</summary>
    public void EnsureEqual(InferenceSession session, Tensor input, DenseTensor dense, string layer, string label)
    {
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var ours = Backbone.Features(input, new[] { layer })[0].contiguous().data<float>().ToArray();
        using var result = session.Run(
            new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), dense) }
        );
        var theirs = result.Single().AsTensor<float>().ToArray();

        // The ONNX Runtime graph pads stride-2 layers asymmetrically: equal for even sizes.
        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        if (ours.Length != theirs.Length || worst > 1e-3 * theirs.Max(Math.Abs))
        {
            throw new InvalidOperationException(
                $"The library and ONNX Runtime disagree on {label} up to {layer}: {worst}."
            );
        }
    }

    public void Dispose() => Backbone.Dispose();
}
