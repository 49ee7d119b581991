using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>SGD with momentum (dampening 0, not Nesterov).</summary>
internal sealed class SgdOptimizer : GradientOptimizer
{
    private readonly double _momentum;
    private readonly Tensor?[] _buffers;

    public SgdOptimizer(
        IReadOnlyList<Parameter> parameters,
        double learningRate,
        double momentum = 0,
        double weightDecay = 0
    )
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
                buffer.mul_(momentum).add_(gradient, Scalars.One);
            }

            direction = buffer;
        }

        using var step = (-LearningRate).ToScalar();
        parameter.add_(direction, alpha: step);
    }
}
