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
/// reads them (see TE0001); here every Scalar is held by a <c>using</c> across its call. Made by <see cref="Adam"/>
/// and <see cref="Sgd"/>; the training loop steps and disposes it.
/// </summary>
public abstract class GradientOptimizer : IDisposable
{
    private protected GradientOptimizer(IReadOnlyList<Parameter> parameters, double learningRate, double weightDecay)
    {
        Parameters = parameters.ToList();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>The L2 penalty added to the gradients.</summary>
    public double WeightDecay { get; }

    /// <summary>PyTorch's <c>torch.optim.Adam</c> (L2 weight decay added to the gradient, not decoupled).</summary>
    public static GradientOptimizer Adam(
        IReadOnlyList<Parameter> parameters,
        double learningRate,
        double beta1 = 0.9,
        double beta2 = 0.999,
        double epsilon = 1e-8,
        double weightDecay = 0
    ) => new AdamOptimizer(parameters, learningRate, beta1, beta2, epsilon, weightDecay);

    /// <summary>PyTorch's <c>torch.optim.SGD</c> with momentum and L2 weight decay.</summary>
    public static GradientOptimizer Sgd(
        IReadOnlyList<Parameter> parameters,
        double learningRate,
        double momentum = 0,
        double weightDecay = 0
    ) => new SgdOptimizer(parameters, learningRate, momentum, weightDecay);

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

    /// <inheritdoc />
    public abstract void Dispose();

    private protected abstract void Update(int index, Parameter parameter, Tensor gradient);

    private protected virtual void AfterStep() { }
}
