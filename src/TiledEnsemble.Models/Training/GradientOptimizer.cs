using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>
/// Adam and SGD with PyTorch's update rules, written here because TorchSharp 0.107's optimizers build temporary
/// Scalars in every step (<c>exp_avg.mul_(beta1)</c>), which the garbage collector can finalize while libtorch still
/// reads them (see TE0001); here every Scalar is held by a <c>using</c> across its call.
/// </summary>
internal abstract class GradientOptimizer : IDisposable
{
    private protected GradientOptimizer(IReadOnlyList<Parameter> parameters, double learningRate, double weightDecay)
    {
        Parameters = parameters.ToList();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    public double LearningRate { get; }

    public double WeightDecay { get; }

    private protected IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Zeroes every gradient (kept allocated, as PyTorch's set_to_none=False).</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters)
        {
            using var grad = parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        using var decay = WeightDecay.ToScalar();
        for (int i = 0; i < Parameters.Count; i++)
        {
            using var scope = NewDisposeScope();
            var grad = Parameters[i].grad;
            if (grad is null)
            {
                continue;
            }

            // L2 penalty added to the gradient (not decoupled), as torch.optim.Adam and SGD do.
            var g = WeightDecay != 0 ? grad.add(Parameters[i], alpha: decay) : grad;
            Update(i, Parameters[i], g);
        }

        AfterStep();
    }

    public abstract void Dispose();

    private protected abstract void Update(int index, Parameter parameter, Tensor gradient);

    private protected virtual void AfterStep()
    {
    }
}

/// <summary>Adam (Kingma and Ba), without amsgrad.</summary>
internal sealed class AdamOptimizer : GradientOptimizer
{
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly Tensor?[] _firstMoment;
    private readonly Tensor?[] _secondMoment;
    private long _step;

    public AdamOptimizer(IReadOnlyList<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _firstMoment = new Tensor?[Parameters.Count];
        _secondMoment = new Tensor?[Parameters.Count];
        _step = 1;
    }

    public override void Dispose()
    {
        foreach (var t in _firstMoment.Concat(_secondMoment))
        {
            t?.Dispose();
        }
    }

    private protected override void Update(int index, Parameter parameter, Tensor gradient)
    {
        var m = _firstMoment[index] ??= zeros_like(parameter).DetachFromDisposeScope();
        var v = _secondMoment[index] ??= zeros_like(parameter).DetachFromDisposeScope();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        m.mul_(beta1).add_(gradient, alpha: oneMinusBeta1);
        v.mul_(beta2).addcmul_(gradient, gradient, value: oneMinusBeta2);
        double correction1 = 1 - Math.Pow(_beta1, _step);
        double correction2 = 1 - Math.Pow(_beta2, _step);
        using var rootCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var stepSize = (-LearningRate / correction1).ToScalar();
        using var denominator = v.sqrt();
        denominator.div_(rootCorrection2).add_(epsilon);
        parameter.addcdiv_(m, denominator, value: stepSize);
    }

    private protected override void AfterStep() => _step++;
}

/// <summary>SGD with momentum (dampening 0, not Nesterov).</summary>
internal sealed class SgdOptimizer : GradientOptimizer
{
    private readonly double _momentum;
    private readonly Tensor?[] _buffers;

    public SgdOptimizer(IReadOnlyList<Parameter> parameters, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        _momentum = momentum;
        _buffers = new Tensor?[Parameters.Count];
    }

    public override void Dispose()
    {
        foreach (var t in _buffers)
        {
            t?.Dispose();
        }
    }

    private protected override void Update(int index, Parameter parameter, Tensor gradient)
    {
        var direction = gradient;
        if (_momentum != 0)
        {
            if (_buffers[index] is not { } buffer)
            {
                _buffers[index] = buffer = gradient.clone().DetachFromDisposeScope();
            }
            else
            {
                using var momentum = _momentum.ToScalar();
                buffer.mul_(momentum).add_(gradient);
            }

            direction = buffer;
        }

        using var step = (-LearningRate).ToScalar();
        parameter.add_(direction, alpha: step);
    }
}
