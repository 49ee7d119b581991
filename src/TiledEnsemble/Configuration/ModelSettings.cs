using System.Collections.Generic;
using TiledEnsemble.Models.ReverseDistillation;

namespace TiledEnsemble.Configuration;

/// <summary>Settings of the per-tile model (bindable from configuration). Unset values take each model's
/// default.</summary>
public sealed class ModelSettings
{
    /// <summary>Backbone name ("resnet18" or "wide_resnet50_2"); null: the model's default.</summary>
    public string? Backbone { get; set; }

    /// <summary>A safetensors file of pretrained backbone weights; null: see <see cref="PreTrained"/>.</summary>
    public string? BackboneWeights { get; set; }

    /// <summary>
    /// Without <see cref="BackboneWeights"/>: true or null (the default) uses the ImageNet weights of the package
    /// <c>TiledEnsemble.Pretrained</c> (ResNet-18) and fails with a message naming the package where they are missing;
    /// false uses seeded random weights (results far from published ones). anomalib's <c>pre_trained</c>.
    /// </summary>
    public bool? PreTrained { get; set; }

    /// <summary>Feature layers; null: the model's default.</summary>
    public List<string>? Layers { get; set; }

    /// <summary>Padim: channels kept; null: 100 (ResNet-18) or 550 (Wide-ResNet-50-2).</summary>
    public int? NFeatures { get; set; }

    /// <summary>Patchcore: coreset sampling ratio (default 0.1).</summary>
    public double? CoresetSamplingRatio { get; set; }

    /// <summary>Patchcore: neighbours for score re-weighting (default 9).</summary>
    public int? NumNeighbors { get; set; }

    /// <summary>FastFlow, STFPM, Reverse Distillation: most epochs (default 500).</summary>
    public int? MaxEpochs { get; set; }

    /// <summary>Gradient-trained models: validation checks without gain before stopping (default 42; 0 disables early
    /// stopping).</summary>
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>Gradient-trained models: the metric early stopping watches (default pixel AUROC).</summary>
    public TiledEnsemble.Models.Training.TrainingMetric? EarlyStoppingMonitor { get; set; }

    /// <summary>Gradient-trained models: validate every this many epochs (default 1).</summary>
    public int? ValidationInterval { get; set; }

    /// <summary>Gradient-trained models: learning rate; null: the model's default.</summary>
    public double? LearningRate { get; set; }

    /// <summary>FastFlow: coupling blocks per flow (default 8).</summary>
    public int? FlowSteps { get; set; }

    /// <summary>FastFlow: hidden channels of a coupling subnet as a fraction of its input channels (default
    /// 1).</summary>
    public double? HiddenRatio { get; set; }

    /// <summary>FastFlow: 3×3 subnets only; otherwise odd steps use 1×1 convolutions (default false).</summary>
    public bool? Conv3x3Only { get; set; }

    /// <summary>Padim, Patchcore, Reverse Distillation: sigma of the anomaly map's Gaussian blur in pixels (default
    /// 4).</summary>
    public double? BlurSigma { get; set; }

    /// <summary>Patchcore: dimension of the random projection of coreset selection (default: the
    /// Johnson–Lindenstrauss bound).</summary>
    public int? ProjectionDimension { get; set; }

    /// <summary>Patchcore: memory-bank rows per distance block, bounding peak memory (default 4096).</summary>
    public int? DistanceChunkSize { get; set; }

    /// <summary>Reverse Distillation: how the layers' maps are combined (default Add).</summary>
    public AnomalyMapMode? MapMode { get; set; }

    /// <summary>A deep copy.</summary>
    public ModelSettings Clone() =>
        new()
        {
            Backbone = Backbone,
            BackboneWeights = BackboneWeights,
            PreTrained = PreTrained,
            Layers = Layers is null ? null : new List<string>(Layers),
            NFeatures = NFeatures,
            CoresetSamplingRatio = CoresetSamplingRatio,
            NumNeighbors = NumNeighbors,
            MaxEpochs = MaxEpochs,
            EarlyStoppingPatience = EarlyStoppingPatience,
            EarlyStoppingMonitor = EarlyStoppingMonitor,
            ValidationInterval = ValidationInterval,
            LearningRate = LearningRate,
            FlowSteps = FlowSteps,
            HiddenRatio = HiddenRatio,
            Conv3x3Only = Conv3x3Only,
            BlurSigma = BlurSigma,
            ProjectionDimension = ProjectionDimension,
            DistanceChunkSize = DistanceChunkSize,
            MapMode = MapMode,
        };
}
