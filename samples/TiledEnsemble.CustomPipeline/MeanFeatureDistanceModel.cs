using System;
using System.Collections.Generic;
using System.Threading;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Samples.CustomPipeline;

/// <summary>
/// A one-pass model written outside the library: the mean backbone feature of the training tiles at every feature
/// position; the anomaly map is the Euclidean distance of a tile's features to that mean, upsampled to the tile.
/// </summary>
public sealed class MeanFeatureDistanceModel : IAnomalyModel
{
    /// <summary>The name its states and runs record.</summary>
    public const string ModelName = "samples.mean_feature_distance";

    private readonly ResNet _backbone;
    private readonly string _layer;
    private Tensor? _mean;

    /// <summary>Creates an unfitted model on the shared, frozen <paramref name="backbone"/> (not disposed
    /// here).</summary>
    public MeanFeatureDistanceModel(ResNet backbone, Device device, string layer = "layer2")
    {
        _backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        BackboneNames.LayerIndex(layer);
        _layer = layer;
        Device = device;
    }

    /// <inheritdoc />
    public string Name => ModelName;

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public bool IsFitted => _mean is not null;

    /// <inheritdoc />
    public void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        using var inference = no_grad();
        Tensor? sum = null;
        long count = 0;
        try
        {
            foreach (var images in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var features = Features(images).to_type(ScalarType.Float64).sum(0L);
                if (sum is null)
                {
                    sum = features.DetachFromDisposeScope();
                }
                else
                {
                    using var one = 1.ToScalar();
                    sum.add_(features, one);
                }

                count += images.shape[0];
            }

            if (sum is null)
            {
                throw new InvalidOperationException($"{ModelName} was given no training tiles.");
            }

            using var meanScope = NewDisposeScope();
            using var divisor = ((double)count).ToScalar();
            _mean?.Dispose();
            _mean = sum.div(divisor).to_type(ScalarType.Float32).DetachFromDisposeScope();
        }
        finally
        {
            sum?.Dispose();
        }
    }

    /// <inheritdoc />
    public ModelPrediction Predict(Tensor images)
    {
        var mean = _mean ?? throw new InvalidOperationException($"{ModelName} is not fitted.");
        using var inference = no_grad();
        using var scope = NewDisposeScope();
        var difference = Features(images).sub(mean.unsqueeze(0));
        var distance = difference.mul(difference).sum(1, keepdim: true).sqrt();
        var maps = F.interpolate(
            distance,
            new[] { images.shape[2], images.shape[3] },
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
        var scores = maps.amax(new long[] { 1, 2, 3 });
        return new ModelPrediction(maps.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public ModelState ExportState()
    {
        var mean = _mean
            ?? throw new InvalidOperationException($"{ModelName} is not fitted: there is no state to export.");
        using var scope = NewDisposeScope();
        var metadata = new Dictionary<string, string>
        {
            ["model"] = ModelName,
            ["layer"] = _layer,
            ["backbone"] = BackboneNames.Name(_backbone.Kind),
        };
        return new ModelState(
            new Dictionary<string, Tensor> { ["mean"] = mean.cpu().clone().DetachFromDisposeScope() },
            metadata
        );
    }

    /// <inheritdoc />
    public void ImportState(ModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ModelStateChecks.Expect(state, ModelName, "layer", _layer);
        ModelStateChecks.Expect(state, ModelName, "backbone", BackboneNames.Name(_backbone.Kind));
        using var scope = NewDisposeScope();
        var mean = state.Require("mean", ModelName);
        _mean?.Dispose();
        _mean = mean.to(ScalarType.Float32, Device).clone().DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose() => _mean?.Dispose();

    private Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        return _backbone.Features(ImageNet.Normalize(images, Device), new[] { _layer })[0].MoveToOuterDisposeScope();
    }
}
