using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using TiledEnsemble.Imaging;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Padim;

/// <summary>
/// Padim (Defard et al. 2020): backbone features of layer1–layer3 upsampled to layer1's resolution and concatenated,
/// a seeded random subset of channels, one multivariate Gaussian per feature position (covariance + 0.01·I),
/// Mahalanobis distance as the anomaly map (bilinearly upsampled and Gaussian-blurred with σ = 4, as one <see
/// cref="BlurredResize"/>), image score = map maximum.
/// </summary>
/// <remarks>
/// Statistics are accumulated streaming (sums and outer-product sums in float64 per position), so memory does not
/// grow with the number of training images. The backbone is shared, not owned: the ensemble keeps one for all tiles.
/// </remarks>
public sealed partial class PadimModel : IAnomalyModel
{
    private const string ModelName = "Padim";
    private const long PositionBlock = 1024;

    // Bytes of outer products accumulated per step: small enough that the temporary comes from the allocator's heap
    // and is reused every batch, instead of an 80 MiB block of fresh pages per batch (NativeAllocator's threshold is
    // 4 MiB); one of the changes that took the fixed threshold's training cost into the noise (docs/benchmarks.md).
    private const long OuterProductBytes = 1 << 20;
    private readonly ResNet _backbone;
    private readonly PadimOptions _options;
    private readonly int _deepestLayer;
    private readonly BlurredResize _mapResize;
    private long[] _featureIndex;
    private ChannelSelection _selection;
    private Tensor? _mean;
    private Tensor? _meanByPosition;
    private Tensor? _inverseCovariance;

    /// <summary>Creates an unfitted Padim on <paramref name="backbone"/>'s device.</summary>
    public PadimModel(ResNet backbone, PadimOptions? options = null, Device? device = null)
    {
        _backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        _options = options ?? new PadimOptions();
        _options.Validate();
        BackboneNames.EnsureMatches(nameof(PadimOptions), _options.Backbone, backbone);

        Device = device ?? CPU;
        using (var scope = NewDisposeScope())
        {
            // A seeded random subset, sorted: the set is what matters (Mahalanobis distance does not depend on the
            // order of the channels) and sorted channels need no reordering after the per-layer selection.
            using var generator = new Generator((ulong)_options.Seed);
            var drawn = randperm(_options.TotalChannels, generator: generator)[..(int)_options.EffectiveFeatures];
            _featureIndex = drawn.data<long>().ToArray();
            Array.Sort(_featureIndex);
        }

        _selection = ChannelSelection.Create(_featureIndex, LayerChannels(), Device);
        _deepestLayer = Enumerable
            .Range(0, _options.Layers.Count)
            .MaxBy(i => BackboneNames.LayerIndex(_options.Layers[i]));
        _mapResize = new BlurredResize(_options.BlurSigma, InterpolationMode.Bilinear, alignCorners: false);
    }

    /// <inheritdoc />
    public string Name => ModelName;

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public bool IsFitted => _mean is not null;

    /// <summary>The options in use.</summary>
    public PadimOptions Options => _options;

    /// <summary>Per-position mean [C', h·w] (for tests and inspection).</summary>
    public Tensor Mean => _mean ?? throw NotFitted();

    /// <summary>Per-position inverse covariance [h·w, C', C'].</summary>
    public Tensor InverseCovariance => _inverseCovariance ?? throw NotFitted();

    /// <inheritdoc />
    public void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        using var inference = inference_mode();
        Tensor? sum = null,
            outer = null;
        long count = 0;
        try
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var byPosition = EmbedByPosition(batch).to_type(ScalarType.Float64); // [hw, B, C']
                var batchSum = byPosition.sum(1L); // [hw, C']
                if (sum is null)
                {
                    // Owned by this method, not by any caller's dispose scope.
                    sum = zeros_like(batchSum).DetachFromDisposeScope();
                    outer = zeros(
                            new[] { byPosition.shape[0], byPosition.shape[2], byPosition.shape[2] },
                            ScalarType.Float64,
                            Device
                        )
                        .DetachFromDisposeScope();
                }

                // Accumulate the outer products block by block: no full [hw, C', C'] temporary per batch.
                sum.add_(batchSum, Scalars.One);
                long channels = byPosition.shape[2];
                long outerBlock = Math.Max(1, OuterProductBytes / (channels * channels * sizeof(double)));
                for (long start = 0; start < byPosition.shape[0]; start += outerBlock)
                {
                    using var step = NewDisposeScope();
                    var block = byPosition.narrow(0, start, Math.Min(outerBlock, byPosition.shape[0] - start));
                    outer!.narrow(0, start, block.shape[0]).add_(block.transpose(1, 2).bmm(block), Scalars.One);
                }

                count += batch.shape[0];
            }

            if (count < 2 || sum is null)
            {
                throw new InvalidOperationException(
                    $"Padim needs at least 2 training images to estimate a covariance; got {count}."
                );
            }

            using var final = NewDisposeScope();
            using var n = count.ToScalar();
            var meanByPosition = sum.div(n); // [hw, C']

            // Covariance in place in the outer-product sums, then inverted in blocks of positions straight into
            // float32, so the peak is the float64 sums plus the float32 result (not several full float64 copies).
            using var degreesOfFreedom = (count - 1).ToScalar();
            using var ridge = 0.01.ToScalar();
            outer!.sub_(meanByPosition.unsqueeze(2).mul(meanByPosition.unsqueeze(1)).mul_(n)).div_(degreesOfFreedom);
            outer.diagonal(dim1: 1, dim2: 2).add_(ridge, Scalars.One);
            long positions = outer.shape[0];
            var inverse = empty(outer.shape, ScalarType.Float32, Device);
            for (long start = 0; start < positions; start += PositionBlock)
            {
                using var step = NewDisposeScope();
                long length = Math.Min(PositionBlock, positions - start);
                inverse.narrow(0, start, length).copy_(linalg.inv(outer.narrow(0, start, length)));
            }

            ReplaceState(meanByPosition.to_type(ScalarType.Float32).t(), inverse, _selection, _featureIndex);
        }
        finally
        {
            sum?.Dispose();
            outer?.Dispose();
        }
    }

    /// <inheritdoc />
    public ModelPrediction Predict(Tensor images)
    {
        if (_mean is null || _inverseCovariance is null)
        {
            throw NotFitted();
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var delta = EmbedByPosition(images, out long h, out long w); // [hw, B, C']
        long b = delta.shape[1];
        if (h * w != _mean.shape[1])
        {
            throw new ArgumentException(
                $"images give a {h}x{w} feature grid but Padim was fitted on {_mean.shape[1]} positions; predict at "
                    + $"the training input size.",
                nameof(images)
            );
        }

        // In place on the embedding, which is already contiguous [hw, B, C'] (bmm on a permuted view is about twice as
        // slow on the CPU).
        delta.sub_(_meanByPosition!);
        var squared = delta.bmm(_inverseCovariance).mul_(delta).sum(2); // [hw, B]
        var distances = squared.clamp_min(Scalars.Zero).sqrt().transpose(0, 1).reshape(b, 1, h, w);
        var maps = _mapResize.Apply(distances, images.shape[2], images.shape[3]);
        var scores = maps.amax(new long[] { 1, 2, 3 });
        return new ModelPrediction(maps.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public ModelState ExportState()
    {
        if (_mean is null || _inverseCovariance is null)
        {
            throw NotFitted();
        }

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["mean"] = _mean.cpu().clone().DetachFromDisposeScope(),
            ["inverse_covariance"] = _inverseCovariance.cpu().clone().DetachFromDisposeScope(),
            ["feature_index"] = tensor(_featureIndex).DetachFromDisposeScope(),
        };
        var metadata = new Dictionary<string, string>
        {
            ["model"] = ModelName,
            ["backbone"] = BackboneNames.Name(_backbone.Kind),
            ["layers"] = string.Join(",", _options.Layers),
            ["n_features"] = _options.EffectiveFeatures.ToString(CultureInfo.InvariantCulture),
            ["seed"] = _options.Seed.ToString(CultureInfo.InvariantCulture),
        };
        return new ModelState(tensors, metadata);
    }

    /// <inheritdoc />
    public void ImportState(ModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ModelStateChecks.Expect(state, ModelName, "backbone", BackboneNames.Name(_backbone.Kind));
        ModelStateChecks.Expect(state, ModelName, "layers", string.Join(",", _options.Layers));
        ModelStateChecks.Expect(
            state,
            ModelName,
            "n_features",
            _options.EffectiveFeatures.ToString(CultureInfo.InvariantCulture)
        );
        var mean = state.Require("mean", ModelName);
        var inverse = state.Require("inverse_covariance", ModelName);
        var index = state.Require("feature_index", ModelName);
        long c = _options.EffectiveFeatures;
        if (
            mean.dim() != 2
            || mean.shape[0] != c
            || inverse.dim() != 3
            || inverse.shape[0] != mean.shape[1]
            || inverse.shape[1] != c
            || inverse.shape[2] != c
            || !index.shape.SequenceEqual(new[] { c })
        )
        {
            throw new ArgumentException(
                $"The saved Padim state has mean {TensorGuard.Describe(mean)}, inverse_covariance "
                    + $"{TensorGuard.Describe(inverse)}, feature_index {TensorGuard.Describe(index)}; expected [{c}, "
                    + $"P], [P, {c}, {c}] and [{c}]."
            );
        }

        using var scope = NewDisposeScope();
        long[] featureIndex = index.to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
        var selection = ChannelSelection.Create(featureIndex, LayerChannels(), Device);
        var newMean = mean.to(ScalarType.Float32, Device).clone();
        var newInverse = inverse.to(ScalarType.Float32, Device).clone();

        // Everything is validated and copied before the current state is replaced.
        ReplaceState(newMean, newInverse, selection, featureIndex);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _mapResize.Dispose();
        _selection.Dispose();
        _mean?.Dispose();
        _meanByPosition?.Dispose();
        _inverseCovariance?.Dispose();
    }

    /// <summary>The embedding [B, C', h, w] of images [B, 3, H, W].</summary>
    /// <remarks>
    /// The deepest layer is only used through its kept channels, so its last block computes just those (about 6 % of
    /// ResNet-18's work up to layer3 is the last convolution, of whose 256 channels Padim keeps about 60); equal to
    /// the full forward pass followed by the selection (tested).
    /// </remarks>
    internal Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var byPosition = EmbedByPosition(images, out long h, out long w);
        return byPosition.permute(1, 2, 0).unflatten(2, new[] { h, w }).MoveToOuterDisposeScope();
    }

    /// <summary>The embedding of images [B, 3, H, W] as [h·w, B, C'], contiguous (see
    /// <see cref="ChannelSelection.ByPosition"/>).</summary>
    private Tensor EmbedByPosition(Tensor images) => EmbedByPosition(images, out _, out _);

    private Tensor EmbedByPosition(Tensor images, out long height, out long width)
    {
        using var scope = NewDisposeScope();
        var kept = _selection.PerLayer[_deepestLayer];
        bool preselect = kept.NumberOfElements > 0;
        var features = _backbone.Features(ImageNet.Normalize(images, Device), _options.Layers, preselect ? kept : null);
        height = features[0].shape[2];
        width = features[0].shape[3];
        return _selection.ByPosition(features, preselect ? _deepestLayer : -1).MoveToOuterDisposeScope();
    }

    /// <summary>Takes over a new state (mean [C', hw] and inverse covariances, not owned by any dispose scope
    /// afterwards).</summary>
    private void ReplaceState(Tensor mean, Tensor inverseCovariance, ChannelSelection selection, long[] featureIndex)
    {
        using var scope = NewDisposeScope();
        var newMean = mean.contiguous().DetachFromDisposeScope();

        // Kept beside the exported layout: prediction subtracts it from [hw, B, C'] rows.
        var byPosition = mean.t().unsqueeze(1).contiguous().DetachFromDisposeScope();
        inverseCovariance.DetachFromDisposeScope();
        if (!ReferenceEquals(selection, _selection))
        {
            _selection.Dispose();
            _selection = selection;
        }

        _mean?.Dispose();
        _meanByPosition?.Dispose();
        _inverseCovariance?.Dispose();
        _featureIndex = featureIndex;
        _mean = newMean;
        _meanByPosition = byPosition;
        _inverseCovariance = inverseCovariance;
    }

    private long[] LayerChannels()
    {
        var kind = BackboneNames.Parse(_options.Backbone);
        return _options.Layers.Select(l => (long)BackboneNames.Channels(kind, l)).ToArray();
    }

    private static InvalidOperationException NotFitted() => new("Padim is not fitted; call Fit or ImportState first.");
}
