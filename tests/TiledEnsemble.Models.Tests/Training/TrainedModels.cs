using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.FastFlow;
using TiledEnsemble.Models.ReverseDistillation;
using TiledEnsemble.Models.Stfpm;
using TiledEnsemble.Models.Training;
using TiledEnsemble.Tiling;

namespace TiledEnsemble.Models.Tests.Training;

/// <summary>The three gradient-trained models in tiny configurations (ResNet-18, 64×64 inputs).</summary>
internal static class TrainedModels
{
    public const int Size = 64;

    public static TrainedAnomalyModel Create(
        ModelKind kind,
        ResNet backbone,
        TrainingOptions training,
        int flowSteps = 2
    ) =>
        kind switch
        {
            ModelKind.FastFlow => new FastflowModel(
                backbone,
                new FastflowOptions
                {
                    InputSize = new Size2D(Size, Size),
                    FlowSteps = flowSteps,
                    Training = training,
                }
            ),
            ModelKind.Stfpm => new StfpmModel(backbone, new StfpmOptions { Training = training }),
            ModelKind.ReverseDistillation => new ReverseDistillationModel(
                backbone,
                new ReverseDistillationOptions { Backbone = "resnet18", Training = training }
            ),
            _ => throw new System.ArgumentOutOfRangeException(nameof(kind)),
        };
}

/// <summary>Records reports synchronously (Progress&lt;T&gt; would post them later).</summary>
internal sealed class ProgressRecorder : System.IProgress<TrainingProgress>
{
    private readonly System.Action<TrainingProgress>? _onReport;

    public ProgressRecorder(System.Action<TrainingProgress>? onReport = null) => _onReport = onReport;

    public System.Collections.Generic.List<TrainingProgress> Reports { get; } = new();

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        _onReport?.Invoke(value);
    }
}
