using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>
/// FastFlow (Yu et al. 2021): frozen backbone features of each scale, LayerNorm, then a 2-D normalizing flow of
/// affine coupling blocks. Loss: the negative log-likelihood, Σ_scales mean_batch(½·‖z‖² − log|det J|).
/// Anomaly map: the mean over scales of −exp(−½·mean_c z²), bilinearly upsampled; score: its maximum.
/// </summary>
public sealed partial class FastflowModel : TrainedAnomalyModel
{
    private readonly FastflowOptions _options;
    private readonly FastflowNetwork _network;

    /// <summary>Creates an untrained FastFlow on <paramref name="backbone"/>.</summary>
    public FastflowModel(ResNet backbone, FastflowOptions options, Device? device = null)
        : base("FastFlow", backbone, options?.Training, device)
    {
        _options = options ?? throw new System.ArgumentNullException(nameof(options));
        _options.Validate();
        BackboneNames.EnsureMatches(nameof(FastflowOptions), _options.Backbone, backbone);
        var shapes = FeatureShapes(backbone, _options, Device);
        _network = new FastflowNetwork(shapes, _options);
        SeededInitialization.Apply(_network, Training.Seed);
        _network.to(Device);
    }

    /// <summary>The options in use.</summary>
    public FastflowOptions Options => _options;

    /// <inheritdoc />
    protected internal override nn.Module Network => _network;

    /// <inheritdoc />
    protected internal override double DefaultLearningRate => 1e-3;

    /// <inheritdoc />
    protected internal override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string>
        {
            ["layers"] = string.Join(",", _options.Layers),
            ["input_size"] = _options.InputSize.ToString(),
            ["flow_steps"] = _options.FlowSteps.ToString(CultureInfo.InvariantCulture),
            ["hidden_ratio"] = _options.HiddenRatio.ToString("R", CultureInfo.InvariantCulture),
            ["conv3x3_only"] = _options.Conv3x3Only ? "true" : "false",
        };

    /// <inheritdoc />
    protected internal override GradientOptimizer CreateOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate
    ) => new AdamOptimizer(parameters, learningRate, weightDecay: 1e-5);

    /// <inheritdoc />
    protected internal override Tensor LossOf(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (latents, logJacobians) = _network.Forward(Features(normalized));
        Tensor? total = null;
        for (int i = 0; i < latents.Length; i++)
        {
            var nll = latents[i]
                .pow(Scalars.Two)
                .sum(new long[] { 1, 2, 3 })
                .mul(Scalars.Half)
                .sub(logJacobians[i])
                .mean();
            total = total is null ? nll : total.add(nll, Scalars.One);
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected internal override Tensor MapsOf(Tensor normalized, long[] size)
    {
        using var scope = NewDisposeScope();
        var (latents, _) = _network.Forward(Features(normalized));
        var maps = latents
            .Select(z =>
            {
                var probability = z.pow(Scalars.Two)
                    .mean(new long[] { 1 }, keepdim: true)
                    .mul(Scalars.Half)
                    .neg()
                    .exp();
                return F.interpolate(probability.neg(), size, mode: InterpolationMode.Bilinear, align_corners: false);
            })
            .ToArray();
        return stack(maps, -1).mean(new long[] { -1 }).MoveToOuterDisposeScope();
    }

    private Tensor[] Features(Tensor normalized)
    {
        using var noGrad = no_grad();
        CheckInputSize(normalized);
        return Backbone.Features(normalized, _options.Layers);
    }

    private void CheckInputSize(Tensor normalized)
    {
        if (normalized.shape[2] != _options.InputSize.Height || normalized.shape[3] != _options.InputSize.Width)
        {
            throw new System.ArgumentException(
                $"FastFlow was built for {_options.InputSize.Height}x{_options.InputSize.Width} inputs (its "
                    + $"LayerNorms are per position); got {normalized.shape[2]}x{normalized.shape[3]}.",
                "images"
            );
        }
    }

    private static List<long[]> FeatureShapes(ResNet backbone, FastflowOptions options, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probe = zeros(new long[] { 1, 3, options.InputSize.Height, options.InputSize.Width }, device: device);
        return backbone
            .Features(probe, options.Layers)
            .Select(f => new[] { f.shape[1], f.shape[2], f.shape[3] })
            .ToList();
    }
}
