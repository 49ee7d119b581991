namespace TiledEnsemble.Models.Training;

/// <summary>One report of a training loop: after each step, and after each validation.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">1-based step within the epoch (0 on a validation report).</param>
/// <param name="Loss">The step's loss (NaN on a validation report).</param>
/// <param name="Metric">The validation metric when this report follows a validation; otherwise null.</param>
public readonly record struct TrainingProgress(int Epoch, int Step, double Loss, double? Metric);
