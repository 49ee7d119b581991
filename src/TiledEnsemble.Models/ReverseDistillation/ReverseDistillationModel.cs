using System.Collections.Generic;
using System.Globalization;
using TiledEnsemble.Imaging;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.ReverseDistillation;

/// <summary>
/// Reverse Distillation (Deng and Li 2022): a frozen encoder, a trainable one-class bottleneck and a decoder that
/// reconstructs the encoder's layer1–layer3 features from the bottleneck. Loss: Σ_layers mean_batch(1 − cos) of the
/// flattened features; anomaly map: the layers' 1 − cosine similarity per position, upsampled (bilinear, corners
/// aligned), added or multiplied, Gaussian-blurred (σ = 4); score: its maximum.
/// </summary>
public sealed class ReverseDistillationModel : TrainedAnomalyModel
{
    private readonly ReverseDistillationOptions _options;
    private readonly ReverseDistillationNetwork _network;

    /// <summary>Creates an untrained Reverse Distillation whose encoder is <paramref name="backbone"/>.</summary>
    public ReverseDistillationModel(ResNet backbone, ReverseDistillationOptions? options = null, Device? device = null)
        : base(ModelKind.ReverseDistillation, backbone, (options ?? new ReverseDistillationOptions()).Training, device)
    {
        _options = options ?? new ReverseDistillationOptions();
        _options.Validate();
        BackboneNames.EnsureMatches(nameof(ReverseDistillationOptions), _options.Backbone, backbone);
        _network = new ReverseDistillationNetwork(backbone.Kind);
        SeededInitialization.Apply(_network, Training.Seed);
        _network.to(Device);
    }

    /// <summary>The options in use.</summary>
    public ReverseDistillationOptions Options => _options;

    internal override nn.Module Network => _network;

    internal override string ModelName => "ReverseDistillation";

    internal override double DefaultLearningRate => 5e-3;

    internal override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["layers"] = string.Join(",", _options.Layers),
        ["anomaly_map_mode"] = _options.MapMode.ToString(),
        ["blur_sigma"] = _options.BlurSigma.ToString("R", CultureInfo.InvariantCulture),
    };

    internal override GradientOptimizer CreateOptimizer(IReadOnlyList<Parameter> parameters, double learningRate) =>
        new AdamOptimizer(parameters, learningRate, beta1: 0.5, beta2: 0.99);

    internal override Tensor LossOf(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (encoded, decoded) = Run(normalized);
        Tensor? total = null;
        for (int i = 0; i < encoded.Length; i++)
        {
            long b = encoded[i].shape[0];
            var similarity = F.cosine_similarity(encoded[i].reshape(b, -1), decoded[i].reshape(b, -1), dim: 1);
            var layer = similarity.neg().add(Scalars.One).mean();
            total = total is null ? layer : total.add(layer);
        }

        return total!.MoveToOuterDisposeScope();
    }

    internal override Tensor MapsOf(Tensor normalized, long[] size)
    {
        using var scope = NewDisposeScope();
        var (encoded, decoded) = Run(normalized);
        Tensor? map = null;
        for (int i = 0; i < encoded.Length; i++)
        {
            var distance = F.cosine_similarity(encoded[i], decoded[i], dim: 1).neg().add(Scalars.One).unsqueeze(1);
            var upsampled = F.interpolate(distance, size, mode: InterpolationMode.Bilinear, align_corners: true);
            map = map is null ? upsampled : _options.MapMode == AnomalyMapMode.Add ? map.add(upsampled) : map.mul(upsampled);
        }

        return GaussianBlur.Apply(map!, _options.BlurSigma).MoveToOuterDisposeScope();
    }

    private (Tensor[] Encoded, Tensor[] Decoded) Run(Tensor normalized)
    {
        Tensor[] encoded;
        using (no_grad())
        {
            encoded = Backbone.Features(normalized, _options.Layers);
        }

        return (encoded, _network.Decode(encoded));
    }
}
