namespace TiledEnsemble.Models.Training;

/// <summary>What a training run did.</summary>
/// <param name="Epochs">Epochs run (completed or cut short by cancellation).</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="FinalLoss">The last step's loss.</param>
/// <param name="BestEpoch">The epoch whose weights were kept (the last one without validation, or when the validation
/// holds one class only and its metric is undefined).</param>
/// <param name="BestMetric">The validation metric of the kept weights (for <see cref="TrainingMetric.GoodImageLoss"/>,
/// the negated loss); null without validation or without a defined metric.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
public sealed record TrainingSummary(
    int Epochs,
    int Steps,
    double FinalLoss,
    int BestEpoch,
    double? BestMetric,
    bool StoppedEarly
);
