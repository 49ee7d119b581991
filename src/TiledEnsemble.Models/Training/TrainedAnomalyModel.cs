using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>
/// The base of models trained by gradient descent: FastFlow, STFPM, Reverse Distillation, and models written outside
/// the library. It holds a frozen backbone (shared, not owned) and a trainable network, and gives them the library's
/// training loop (epochs, validation, early stopping with the best weights, divergence checks, cancellation),
/// prediction (score = map maximum) and saving and loading of the trainable weights with their settings. A subclass
/// provides the network, the loss, the maps and the optimizer.
/// </summary>
public abstract class TrainedAnomalyModel : ITrainableAnomalyModel
{
    private bool _fitted;

    /// <summary>Creates the model.</summary>
    /// <param name="name">Its stable name, recorded in saved states and runs (see
    /// <see cref="IAnomalyModel.Name"/>).</param>
    /// <param name="backbone">The frozen feature extractor, shared with other models; not disposed by this one.</param>
    /// <param name="training">Epochs, early stopping, learning rate, seed; null: the defaults.</param>
    /// <param name="device">Where it computes; null: the CPU.</param>
    protected TrainedAnomalyModel(string name, ResNet backbone, TrainingOptions? training, Device? device)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        Training = training ?? new TrainingOptions();
        Training.Validate();
        Device = device ?? CPU;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public bool IsFitted => _fitted;

    /// <inheritdoc />
    public TrainingOptions Training { get; }

    /// <summary>The frozen feature extractor (teacher / encoder).</summary>
    protected ResNet Backbone { get; }

    /// <summary>
    /// The trainable network (registered with <c>RegisterComponents()</c>, parameters named as in PyTorch): its state
    /// dict is what is saved; parameters with <c>requires_grad</c> are trained.
    /// </summary>
    protected internal abstract nn.Module Network { get; }

    /// <summary>The learning rate when <see cref="TrainingOptions.LearningRate"/> is not set.</summary>
    protected internal abstract double DefaultLearningRate { get; }

    /// <summary>Settings that must match for saved weights to be loaded (besides the model name and
    /// backbone).</summary>
    protected internal abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>The optimizer of <paramref name="parameters"/>: <see cref="GradientOptimizer.Adam"/> or
    /// <see cref="GradientOptimizer.Sgd"/>.</summary>
    protected internal abstract GradientOptimizer CreateOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate
    );

    /// <summary>The training loss (a scalar with its graph) of ImageNet-normalized images [B, 3, H, W].</summary>
    protected internal abstract Tensor LossOf(Tensor normalized);

    /// <summary>
    /// Whether <see cref="LossOf"/> sums over the images of its batch (STFPM's, as in anomalib) instead of averaging
    /// them: the loss on held-out good images (<see cref="TrainingMetric.GoodImageLoss"/>) divides such a loss by the
    /// batch size, so that the value watched and reported is a mean per image whatever the batch size.
    /// </summary>
    protected internal virtual bool LossSumsOverBatch => false;

    /// <summary>
    /// Why a training step on <paramref name="images"/> [B, 3, H, W] would corrupt the network (null when it would
    /// not): the training loop skips such a batch, or stops with this reason when no batch of an epoch is usable.
    /// </summary>
    protected internal virtual string? CannotTrainOn(Tensor images) => null;

    /// <summary>Raw anomaly maps [B, 1, H, W] of ImageNet-normalized images, at <paramref name="size"/> (no
    /// gradient).</summary>
    protected internal abstract Tensor MapsOf(Tensor normalized, long[] size);

    internal IEnumerable<Parameter> TrainableParameters() => Network.parameters().Where(p => p.requires_grad);

    internal void SetTraining(bool training) => Network.train(training);

    internal void MarkFitted(bool fitted) => _fitted = fitted;

    internal Tensor Loss(Tensor images)
    {
        using var scope = NewDisposeScope();
        return LossOf(ImageNet.Normalize(images, Device)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Fit(IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        Train(() => batches, null, null, cancellationToken);
    }

    /// <inheritdoc />
    public TrainingSummary Train(
        Func<IEnumerable<Tensor>> training,
        Func<IEnumerable<ValidationBatch>>? validation = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => TrainingLoop.Run(this, training, validation, progress, cancellationToken);

    /// <inheritdoc />
    public ModelPrediction Predict(Tensor images)
    {
        if (!_fitted)
        {
            throw new InvalidOperationException($"{Name} is not trained: call Fit/Train or ImportState first.");
        }

        return PredictUnchecked(images);
    }

    internal ModelPrediction PredictUnchecked(Tensor images)
    {
        using var inference = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = Network.training;
        Network.eval();
        try
        {
            var maps = MapsOf(ImageNet.Normalize(images, Device), new[] { images.shape[2], images.shape[3] });
            var scores = maps.amax(new long[] { 1, 2, 3 });
            return new ModelPrediction(maps.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
        }
        finally
        {
            Network.train(wasTraining);
        }
    }

    /// <inheritdoc />
    public ModelState ExportState()
    {
        if (!_fitted)
        {
            throw new InvalidOperationException($"{Name} is not trained: there is no state to export.");
        }

        var tensors = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var (name, value) in Network.state_dict())
            {
                tensors[name] = value.detach().cpu().clone().DetachFromDisposeScope();
            }
        }

        var metadata = new Dictionary<string, string>(Settings)
        {
            ["model"] = Name,
            ["backbone"] = BackboneNames.Name(Backbone.Kind),
        };
        return new ModelState(tensors, metadata);
    }

    /// <inheritdoc />
    public void ImportState(ModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ModelStateChecks.Expect(state, Name, "backbone", BackboneNames.Name(Backbone.Kind));
        foreach (var (key, value) in Settings)
        {
            ModelStateChecks.Expect(state, Name, key, value);
        }

        var own = Network.state_dict();
        var missing = own.Keys.Where(k => !state.Tensors.ContainsKey(k)).ToList();
        var unexpected = state.Tensors.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = own.Where(p =>
                state.Tensors.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape)
            )
            .Select(p =>
                $"{p.Key} {TensorGuard.Describe(state.Tensors[p.Key])} (expected {TensorGuard.Describe(p.Value)})"
            )
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            static string List(IEnumerable<string> items) =>
                string.Join(", ", items.Take(5)) + (items.Count() > 5 ? ", ..." : string.Empty);
            throw new ArgumentException(
                $"The saved weights do not fit this {Name} network: {missing.Count} missing ({List(missing)}), "
                    + $"{unexpected.Count} unexpected ({List(unexpected)}), {mismatched.Count} of another shape "
                    + $"({List(mismatched)}). They were saved by another architecture or other settings."
            );
        }

        using (var copyScope = NewDisposeScope())
        using (no_grad())
        {
            foreach (var (name, value) in own)
            {
                value.copy_(state.Tensors[name].to(value.dtype, value.device));
            }
        }

        Network.eval();
        _fitted = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Network.Dispose();
        GC.SuppressFinalize(this);
    }
}
