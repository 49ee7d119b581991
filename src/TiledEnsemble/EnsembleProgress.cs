namespace TiledEnsemble;

/// <summary>What the ensemble is doing.</summary>
public enum EnsembleStage
{
    /// <summary>Training one tile position.</summary>
    Training,

    /// <summary>Collecting validation statistics.</summary>
    Validating,

    /// <summary>Evaluating on the test set.</summary>
    Evaluating,

    /// <summary>Predicting images (the command line's <c>predict</c>).</summary>
    Predicting,

    /// <summary>Exporting to ONNX: one step per tile position's head, then one for writing the files.</summary>
    Exporting,
}

/// <summary>A progress report.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Step">Steps done in this stage (positions when training, images otherwise).</param>
/// <param name="Total">Steps in this stage.</param>
/// <param name="Message">What is happening, for people.</param>
public sealed record EnsembleProgress(EnsembleStage Stage, int Step, int Total, string Message);
