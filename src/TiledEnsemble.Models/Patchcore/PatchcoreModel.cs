using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using TiledEnsemble.Imaging;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Patchcore;

/// <summary>
/// Patchcore (Roth et al. 2022): locally aware patch features (layer2 and layer3, 3×3 average pooling, layer3
/// upsampled to layer2's size), a memory bank of training patches reduced by greedy k-center coreset sampling, the
/// distance of each test patch to its nearest bank entry as the anomaly map (nearest-upsampled and Gaussian-blurred
/// with σ = 4, as one <see cref="BlurredResize"/>), and the image score re-weighted by the support of the nearest bank
/// entry as in the paper.
/// </summary>
/// <remarks>Distances are computed in blocks of <see cref="PatchcoreOptions.DistanceChunkSize"/> rows on each side, so
/// peak memory is bounded whatever the bank size.</remarks>
public sealed partial class PatchcoreModel : IAnomalyModel
{
    private const string ModelName = "Patchcore";
    private readonly ResNet _backbone;
    private readonly PatchcoreOptions _options;
    private readonly BlurredResize _mapResize;
    private Tensor? _memoryBank;
    private Tensor? _bankNorms;

    /// <summary>Creates an unfitted Patchcore.</summary>
    public PatchcoreModel(ResNet backbone, PatchcoreOptions? options = null, Device? device = null)
    {
        _backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        _options = options ?? new PatchcoreOptions();
        _options.Validate();
        BackboneNames.EnsureMatches(nameof(PatchcoreOptions), _options.Backbone, backbone);

        Device = device ?? CPU;
        _mapResize = new BlurredResize(_options.BlurSigma, InterpolationMode.Nearest);
    }

    /// <inheritdoc />
    public string Name => ModelName;

    /// <summary>The options in use.</summary>
    public PatchcoreOptions Options => _options;

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public bool IsFitted => _memoryBank is not null;

    /// <summary>The memory bank [M, C] after fitting.</summary>
    public Tensor MemoryBank => _memoryBank ?? throw NotFitted();

    /// <inheritdoc />
    public void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        using var inference = inference_mode();
        var patches = new List<Tensor>();
        try
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var embedding = Embed(batch);
                patches.Add(embedding.permute(0, 2, 3, 1).reshape(-1, embedding.shape[1]).DetachFromDisposeScope());
            }

            if (patches.Count == 0)
            {
                throw new InvalidOperationException("Patchcore got no training images.");
            }

            using var final = NewDisposeScope();
            var all = cat(patches, 0);
            int keep = Math.Max(1, (int)(all.shape[0] * _options.CoresetSamplingRatio));
            var indices = KCenterGreedy.Select(all, keep, _options.Seed, _options.ProjectionDimension);
            ReplaceBank(all.index_select(0, tensor(indices, device: all.device)).contiguous());
        }
        finally
        {
            foreach (var p in patches)
            {
                p.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public ModelPrediction Predict(Tensor images)
    {
        var bank = _memoryBank ?? throw NotFitted();
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var embedding = Embed(images);
        long b = embedding.shape[0],
            c = embedding.shape[1],
            h = embedding.shape[2],
            w = embedding.shape[3];
        var patches = embedding.permute(0, 2, 3, 1).reshape(-1, c);
        var (distance, nearest) = NearestNeighbours(patches, bank, _bankNorms!);
        var patchScores = distance.reshape(b, h * w);
        var nearestByImage = nearest.reshape(b, h * w);

        int neighbours = (int)Math.Min(_options.NumNeighbors, bank.shape[0]);
        var maps = _mapResize.Apply(patchScores.reshape(b, 1, h, w), images.shape[2], images.shape[3]);
        if (neighbours == 1)
        {
            // One neighbour leaves no support to weigh against (the softmax of one distance is 1, which would score
            // every image 0): the score is the largest patch distance, as in anomalib.
            var largest = patchScores.amax(new long[] { 1 });
            return new ModelPrediction(maps.MoveToOuterDisposeScope(), largest.MoveToOuterDisposeScope());
        }

        // Re-weighting (paper, eq. 7): the patch with the largest distance s*, its nearest bank entry m*, and the
        // support of m* among its own nearest bank entries: score = (1 - softmax(distances to support)[0]) · s*.
        var worst = patchScores.argmax(1);
        using var imageCount = b.ToScalar();
        var rows = arange(Scalars.Zero, imageCount, Scalars.One, device: Device);
        var worstScore = patchScores[rows, worst];
        var worstFeature = patches.reshape(b, h * w, c)[rows, worst];
        var anchor = bank.index_select(0, nearestByImage[rows, worst]);
        var support = ChunkedDistances(anchor, bank).topk(neighbours, dim: 1, largest: false).indexes; // [B, k]
        var supportDistances = (worstFeature.unsqueeze(1) - bank[support]).pow(Scalars.Two).sum(2).sqrt(); // [B, k]
        var weights = supportDistances.softmax(1)[.., 0].neg().add_(Scalars.One, Scalars.One);
        var scores = weights * worstScore;
        return new ModelPrediction(maps.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public ModelState ExportState()
    {
        var bank = _memoryBank ?? throw NotFitted();
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["memory_bank"] = bank.cpu().clone().DetachFromDisposeScope() };
        var metadata = new Dictionary<string, string>
        {
            ["model"] = ModelName,
            ["backbone"] = BackboneNames.Name(_backbone.Kind),
            ["layers"] = string.Join(",", _options.Layers),
            ["num_neighbors"] = _options.NumNeighbors.ToString(CultureInfo.InvariantCulture),
            ["coreset_sampling_ratio"] = _options.CoresetSamplingRatio.ToString("R", CultureInfo.InvariantCulture),
        };
        return new ModelState(tensors, metadata);
    }

    /// <inheritdoc />
    public void ImportState(ModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ModelStateChecks.Expect(state, ModelName, "backbone", BackboneNames.Name(_backbone.Kind));
        ModelStateChecks.Expect(state, ModelName, "layers", string.Join(",", _options.Layers));
        var bank = state.Require("memory_bank", ModelName);
        if (bank.dim() != 2 || bank.shape[1] != _options.Channels || bank.shape[0] == 0)
        {
            throw new ArgumentException(
                $"The saved Patchcore memory_bank is {TensorGuard.Describe(bank)}; expected [M, {_options.Channels}] "
                    + $"with M > 0."
            );
        }

        using var scope = NewDisposeScope();
        ReplaceBank(bank.to(ScalarType.Float32, Device).clone());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _mapResize.Dispose();
        _memoryBank?.Dispose();
        _bankNorms?.Dispose();
    }

    /// <summary>Takes over <paramref name="bank"/> (no dispose scope owns it afterwards) with its squared row
    /// norms.</summary>
    private void ReplaceBank(Tensor bank)
    {
        using var scope = NewDisposeScope();

        // ‖b‖² of every bank row, needed by every search: computed once here, not per prediction.
        var norms = bank.pow(Scalars.Two).sum(1).unsqueeze(0).DetachFromDisposeScope(); // [1, M]
        bank.DetachFromDisposeScope();
        _memoryBank?.Dispose();
        _bankNorms?.Dispose();
        _memoryBank = bank;
        _bankNorms = norms;
    }

    /// <summary>Locally aware patch features [B, C, h, w].</summary>
    /// <remarks>
    /// On the CPU the features are pooled, upsampled and joined with channels-last strides (see <see cref="Pooling"/>),
    /// so the result is [B, h, w, C] in memory and the patch matrix [B·h·w, C] is a view of it, not a copy.
    /// </remarks>
    internal Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var features = _backbone
            .Features(ImageNet.Normalize(images, Device), _options.Layers)
            .Select(f => F.avg_pool2d(Pooling.ChannelsLastOnCpu(f), 3, stride: 1, padding: 1))
            .ToArray();
        var size = new[] { features[0].shape[2], features[0].shape[3] };
        var resized = features
            .Select(
                (f, i) => i == 0 ? f : F.interpolate(f, size, mode: InterpolationMode.Bilinear, align_corners: false)
            )
            .ToArray();
        return cat(resized, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Distance to, and index of, the nearest bank row for every query row, in bounded blocks.</summary>
    /// <remarks>
    /// ‖q − b‖² = ‖q‖² + ‖b‖² − 2·q·b: one matrix product per block (fused with the ‖b‖² term
    /// by addmm), the minimum taken over ‖b‖² − 2·q·b (‖q‖² is the same for a whole row), and a square
    /// root only for the minima — instead of cdist's square root of every pair.
    /// </remarks>
    private (Tensor Distance, Tensor Index) NearestNeighbours(Tensor queries, Tensor bank, Tensor bankNorms)
    {
        using var scope = NewDisposeScope();
        int chunk = _options.DistanceChunkSize;
        long count = queries.shape[0];
        if (count <= chunk && bank.shape[0] <= chunk)
        {
            // One block (a tile position's bank and batch, typically): the same arithmetic without the running minimum.
            var (d, i) = bankNorms.addmm(queries, bank.t(), beta: 1, alpha: -2).min(1);
            d.add_(queries.pow(Scalars.Two).sum(1), Scalars.One).clamp_min_(Scalars.Zero).sqrt_();
            return (d.MoveToOuterDisposeScope(), i.MoveToOuterDisposeScope());
        }

        using var infinity = double.PositiveInfinity.ToScalar();
        var best = full(count, infinity, dtype: ScalarType.Float32, device: queries.device);
        var bestIndex = zeros(count, dtype: ScalarType.Int64, device: queries.device);
        for (long q = 0; q < count; q += chunk)
        {
            long rows = Math.Min(chunk, count - q);
            var block = queries.narrow(0, q, rows);
            var currentBest = best.narrow(0, q, rows);
            var currentIndex = bestIndex.narrow(0, q, rows);
            for (long m = 0; m < bank.shape[0]; m += chunk)
            {
                // Each block's distance matrix is released before the next is made: peak memory is one block.
                using var inner = NewDisposeScope();
                long length = Math.Min(chunk, bank.shape[0] - m);
                var partial = bankNorms
                    .narrow(1, m, length)
                    .addmm(block, bank.narrow(0, m, length).t(), beta: 1, alpha: -2);
                var (d, i) = partial.min(1);
                var better = d.lt(currentBest);
                using var blockStart = m.ToScalar();
                currentIndex.copy_(where(better, i.add(blockStart, Scalars.One), currentIndex));
                currentBest.copy_(where(better, d, currentBest));
            }

            currentBest.add_(block.pow(Scalars.Two).sum(1), Scalars.One).clamp_min_(Scalars.Zero).sqrt_();
        }

        return (best.MoveToOuterDisposeScope(), bestIndex.MoveToOuterDisposeScope());
    }

    /// <summary>All distances [Q, M] from a few query rows to the bank, computed in blocks of bank rows.</summary>
    private Tensor ChunkedDistances(Tensor queries, Tensor bank)
    {
        using var scope = NewDisposeScope();
        var blocks = new List<Tensor>();
        for (long m = 0; m < bank.shape[0]; m += _options.DistanceChunkSize)
        {
            blocks.Add(cdist(queries, bank.narrow(0, m, Math.Min(_options.DistanceChunkSize, bank.shape[0] - m))));
        }

        return cat(blocks, 1).MoveToOuterDisposeScope();
    }

    private static InvalidOperationException NotFitted() =>
        new("Patchcore is not fitted; call Fit or ImportState first.");
}
