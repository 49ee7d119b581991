using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>Adam (Kingma and Ba), without amsgrad.</summary>
internal sealed class AdamOptimizer : GradientOptimizer
{
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly Tensor?[] _firstMoment;
    private readonly Tensor?[] _secondMoment;
    private long _step;

    public AdamOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate,
        double beta1 = 0.9,
        double beta2 = 0.999,
        double epsilon = 1e-8,
        double weightDecay = 0
    )
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
        denominator.div_(rootCorrection2).add_(epsilon, Scalars.One);
        parameter.addcdiv_(m, denominator, value: stepSize);
    }

    private protected override void AfterStep() => _step++;
}
