using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>A model trained by gradient descent over epochs: FastFlow, STFPM, Reverse Distillation.</summary>
public interface ITrainableAnomalyModel : IAnomalyModel
{
    /// <summary>How the model trains.</summary>
    TrainingOptions Training { get; }

    /// <summary>
    /// Trains for up to <see cref="TrainingOptions.MaxEpochs"/> epochs, asking <paramref name="training"/> for a fresh
    /// stream of batches each epoch, validating on <paramref name="validation"/> (when given) for early stopping and
    /// keeping the best weights.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">
    /// Cancelled: training stopped after the current step; the best weights so far (or the last ones, without
    /// validation) are in place and the model can predict if at least one step was taken.
    /// </exception>
    TrainingSummary Train(
        Func<IEnumerable<Tensor>> training,
        Func<IEnumerable<ValidationBatch>>? validation = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default
    );
}
