using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Backbones;

/// <summary>
/// Batch normalization over (N, C, H, W), PyTorch's <c>BatchNorm2d</c> with the same parameters and buffers
/// (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>), so state dicts
/// map one to one.
/// </summary>
/// <remarks>
/// TorchSharp's own BatchNorm counts a training batch with <c>num_batches_tracked.add_(1)</c>: two temporary Scalars
/// that nothing holds while libtorch reads them, so a collection on another thread can free one mid-call (seen as
/// "Expected false to be true" from c10's Scalar, and as crashes). This one counts with a process-lifetime 1.
/// </remarks>
internal sealed class BatchNormalization2d : BatchNorm
{
    /// <summary>A batch norm over <paramref name="features"/> channels, affine, tracking running statistics.</summary>
    public BatchNormalization2d(long features, double eps = 1e-5, double momentum = 0.1)
        : base(
            features,
            eps,
            momentum,
            affine: true,
            track_running_stats: true,
            device: null,
            dtype: null,
            name: nameof(BatchNormalization2d)
        ) { }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double averagingFactor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } count)
        {
            count.add_(Scalars.One, Scalars.One);
            if (momentum is null)
            {
                // A cumulative average when no momentum is set, as PyTorch does.
                using var batches = count.ToScalar();
                averagingFactor = 1.0 / batches.ToDouble();
            }
        }

        bool useBatchStatistics = training || (running_mean is null && running_var is null);
        bool useRunningStatistics = !training || track_running_stats;
        return F.batch_norm(
            input,
            useRunningStatistics ? running_mean : null,
            useRunningStatistics ? running_var : null,
            weight,
            bias,
            useBatchStatistics,
            averagingFactor,
            eps
        );
    }

    /// <inheritdoc/>
    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 4)
        {
            throw new ArgumentException(
                $"Batch normalization over (N, C, H, W) expects a 4-D input; got shape "
                    + $"[{string.Join(", ", input.shape)}].",
                nameof(input)
            );
        }
    }
}
