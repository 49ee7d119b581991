using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Models.Stfpm;

/// <summary>
/// STFPM (Wang et al. 2021): a frozen teacher and a student of the same architecture trained to reproduce the
/// teacher's channel-normalized features on normal images. Loss per layer: ½·‖t̂ − ŝ‖² summed and divided by
/// the layer's h·w; anomaly map: the product over layers of ½·‖t̂ − ŝ‖² per position, bilinearly upsampled;
/// score: its maximum.
/// </summary>
/// <remarks>The teacher is the shared backbone; the student starts from the training seed (never from pretrained
/// weights).</remarks>
public sealed partial class StfpmModel : TrainedAnomalyModel
{
    private readonly StfpmOptions _options;
    private readonly StfpmNetwork _network;

    /// <summary>Creates an untrained STFPM whose teacher is <paramref name="backbone"/>.</summary>
    public StfpmModel(ResNet backbone, StfpmOptions? options = null, Device? device = null)
        : base("Stfpm", backbone, (options ?? new StfpmOptions()).Training, device)
    {
        _options = options ?? new StfpmOptions();
        _options.Validate();
        BackboneNames.EnsureMatches(nameof(StfpmOptions), _options.Backbone, backbone);
        int depth = _options.Layers.Max(BackboneNames.LayerIndex) <= 3 ? 3 : 4;
        var student = ResNet.Create(backbone.Kind, Training.Seed, depth);
        student.Unfreeze();
        _network = new StfpmNetwork(student);
        _network.to(Device);
    }

    /// <summary>The options in use.</summary>
    public StfpmOptions Options => _options;

    /// <inheritdoc />
    protected internal override nn.Module Network => _network;

    /// <inheritdoc />
    protected internal override double DefaultLearningRate => 0.4;

    /// <inheritdoc />
    protected internal override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string> { ["layers"] = string.Join(",", _options.Layers) };

    /// <inheritdoc />
    protected internal override GradientOptimizer CreateOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate
    ) => new SgdOptimizer(parameters, learningRate, momentum: 0.9, weightDecay: 1e-4);

    /// <inheritdoc />
    protected internal override bool LossSumsOverBatch => true;

    /// <inheritdoc />
    protected internal override Tensor LossOf(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (teacher, student) = Features(normalized);
        Tensor? total = null;
        for (int i = 0; i < teacher.Length; i++)
        {
            long h = teacher[i].shape[2],
                w = teacher[i].shape[3];
            using var factor = (0.5 / (h * w)).ToScalar();
            var layer = F.normalize(teacher[i], dim: 1)
                .sub(F.normalize(student[i], dim: 1))
                .pow(Scalars.Two)
                .sum()
                .mul(factor);
            total = total is null ? layer : total.add(layer, Scalars.One);
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected internal override Tensor MapsOf(Tensor normalized, long[] size)
    {
        using var scope = NewDisposeScope();
        var (teacher, student) = Features(normalized);
        Tensor? map = null;
        for (int i = 0; i < teacher.Length; i++)
        {
            var layer = F.normalize(teacher[i], dim: 1)
                .sub(F.normalize(student[i], dim: 1))
                .pow(Scalars.Two)
                .sum(1, keepdim: true)
                .mul(Scalars.Half);
            var upsampled = F.interpolate(layer, size, mode: InterpolationMode.Bilinear, align_corners: false);
            map = map is null ? upsampled : map.mul(upsampled);
        }

        return map!.MoveToOuterDisposeScope();
    }

    private (Tensor[] Teacher, Tensor[] Student) Features(Tensor normalized)
    {
        Tensor[] teacher;
        using (no_grad())
        {
            teacher = Backbone.Features(normalized, _options.Layers);
        }

        return (teacher, _network.Student.Features(normalized, _options.Layers));
    }
}
