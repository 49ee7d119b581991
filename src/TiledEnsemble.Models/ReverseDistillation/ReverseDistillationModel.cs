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
/// reconstructs the encoder's layer1–layer3 features from the bottleneck. Loss: Σ_layers mean_batch(1 − cos) of
/// the flattened features; anomaly map: the layers' 1 − cosine similarity per position, upsampled (bilinear, corners
/// aligned), added or multiplied, Gaussian-blurred (σ = 4); score: its maximum.
/// </summary>
public sealed partial class ReverseDistillationModel : TrainedAnomalyModel
{
    private readonly ReverseDistillationOptions _options;
    private readonly ReverseDistillationNetwork _network;

    /// <summary>Creates an untrained Reverse Distillation whose encoder is <paramref name="backbone"/>.</summary>
    public ReverseDistillationModel(ResNet backbone, ReverseDistillationOptions? options = null, Device? device = null)
        : base("ReverseDistillation", backbone, (options ?? new ReverseDistillationOptions()).Training, device)
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

    /// <inheritdoc />
    protected internal override nn.Module Network => _network;

    /// <inheritdoc />
    protected internal override double DefaultLearningRate => 5e-3;

    /// <inheritdoc />
    protected internal override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string>
        {
            ["layers"] = string.Join(",", _options.Layers),
            ["anomaly_map_mode"] = _options.MapMode.ToString(),
            ["blur_sigma"] = _options.BlurSigma.ToString("R", CultureInfo.InvariantCulture),
        };

    /// <inheritdoc />
    protected internal override GradientOptimizer CreateOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate
    ) => new AdamOptimizer(parameters, learningRate, beta1: 0.5, beta2: 0.99);

    /// <inheritdoc />
    protected internal override Tensor LossOf(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (encoded, decoded) = Run(normalized);
        Tensor? total = null;
        for (int i = 0; i < encoded.Length; i++)
        {
            long b = encoded[i].shape[0];
            var similarity = F.cosine_similarity(encoded[i].reshape(b, -1), decoded[i].reshape(b, -1), dim: 1);
            var layer = similarity.neg().add(Scalars.One, Scalars.One).mean();
            total = total is null ? layer : total.add(layer, Scalars.One);
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <remarks>
    /// The bottleneck's batch norms normalize over batch and positions; its map is 1×1 for tiles under 64 pixels, so a
    /// batch of one such tile has one value per channel, its variance is undefined and the running statistics become
    /// NaN (PyTorch refuses such a step). A last, partial batch of one image is skipped for that reason.
    /// </remarks>
    protected internal override string? CannotTrainOn(Tensor images)
    {
        long height = BottleneckSize(images.shape[2]),
            width = BottleneckSize(images.shape[3]);
        return images.shape[0] * height * width > 1
            ? null
            : $"a batch of one {images.shape[2]}×{images.shape[3]} image gives the bottleneck's batch norms one "
                + $"value per channel; use batches of at least 2 images or tiles of at least 64 pixels.";
    }

    /// <summary>Side of the bottleneck's output: the input halved five times (stem, max-pool, layer2, layer3,
    /// bottleneck).</summary>
    private static long BottleneckSize(long input)
    {
        long size = input;
        for (int i = 0; i < 5; i++)
        {
            size = ((size - 1) / 2) + 1;
        }

        return size;
    }

    /// <inheritdoc />
    protected internal override Tensor MapsOf(Tensor normalized, long[] size)
    {
        using var scope = NewDisposeScope();
        var (encoded, decoded) = Run(normalized);
        Tensor? map = null;
        for (int i = 0; i < encoded.Length; i++)
        {
            var distance = F.cosine_similarity(encoded[i], decoded[i], dim: 1)
                .neg()
                .add(Scalars.One, Scalars.One)
                .unsqueeze(1);
            var upsampled = F.interpolate(distance, size, mode: InterpolationMode.Bilinear, align_corners: true);
            map =
                map is null ? upsampled
                : _options.MapMode == AnomalyMapMode.Add ? map.add(upsampled, Scalars.One)
                : map.mul(upsampled);
        }

        return GaussianBlur.Apply(map!, _options.BlurSigma).MoveToOuterDisposeScope();
    }

    private (Tensor[] Encoded, Tensor[] Decoded) Run(Tensor normalized)
    {
        // The decoder doubles the bottleneck's map three times and must land on the encoder's layer sizes exactly.
        if (normalized.shape[2] % 32 != 0 || normalized.shape[3] % 32 != 0)
        {
            throw new System.ArgumentException(
                $"ReverseDistillation needs image (tile) sides that are multiples of 32; got "
                    + $"{normalized.shape[2]}×{normalized.shape[3]}.",
                "images"
            );
        }

        Tensor[] encoded;
        using (no_grad())
        {
            encoded = Backbone.Features(normalized, _options.Layers);
        }

        return (encoded, _network.Decode(encoded));
    }
}
