using System.Collections.Generic;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Samples.CustomPipeline;

/// <summary>
/// A gradient-trained model written outside the library on its public base: a small student network learns to
/// reproduce the frozen backbone's layer1 features of normal tiles; the anomaly map is the squared error of its
/// reproduction. It gets the library's training loop — epochs, validation with early stopping and the best weights,
/// divergence checks, cancellation — and saving and loading of its weights.
/// </summary>
public sealed class FeatureRegressionModel : TrainedAnomalyModel
{
    /// <summary>The name its states and runs record.</summary>
    public const string ModelName = "samples.feature_regression";

    private readonly Student _student;

    /// <summary>Creates an untrained model; the student's weights start from <paramref name="training"/>'s
    /// seed.</summary>
    public FeatureRegressionModel(ResNet backbone, TrainingOptions training, Device device)
        : base(ModelName, backbone, training, device)
    {
        using (var generator = new Generator((ulong)training.Seed))
        {
            _student = new Student(generator);
        }

        _student.to(Device);
    }

    /// <inheritdoc />
    protected override nn.Module Network => _student;

    /// <inheritdoc />
    protected override double DefaultLearningRate => 1e-3;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string> { ["teacher_layer"] = "layer1" };

    /// <inheritdoc />
    protected override GradientOptimizer CreateOptimizer(IReadOnlyList<Parameter> parameters, double learningRate) =>
        GradientOptimizer.Adam(parameters, learningRate);

    /// <inheritdoc />
    protected override Tensor LossOf(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        Tensor teacher;
        using (no_grad())
        {
            teacher = Backbone.Features(normalized, new[] { "layer1" })[0];
        }

        return F.mse_loss(_student.call(normalized), teacher).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor MapsOf(Tensor normalized, long[] size)
    {
        using var scope = NewDisposeScope();
        var teacher = Backbone.Features(normalized, new[] { "layer1" })[0];
        var difference = _student.call(normalized).sub(teacher);
        var error = difference.mul(difference).mean(new long[] { 1 }, keepdim: true);
        return F.interpolate(error, size, mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Two strided convolutions from the image to 64 channels at a quarter of its side, as layer1.</summary>
    private sealed class Student : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly Conv2d conv2;

        public Student(Generator generator)
            : base(nameof(Student))
        {
            conv1 = nn.Conv2d(3, 32, 3, stride: 2, padding: 1);
            conv2 = nn.Conv2d(32, 64, 3, stride: 2, padding: 1);
            RegisterComponents();
            using var scope = NewDisposeScope();
            using (no_grad())
            {
                foreach (var (_, parameter) in named_parameters())
                {
                    using var scale = 0.1.ToScalar();
                    parameter.copy_(randn(parameter.shape, generator: generator).mul_(scale));
                }
            }
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return conv2.call(F.relu(conv1.call(input))).MoveToOuterDisposeScope();
        }
    }
}
