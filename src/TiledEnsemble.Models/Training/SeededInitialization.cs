using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>PyTorch's default initialisation, drawn from a seeded generator instead of the global one.</summary>
/// <remarks>
/// TorchSharp modules initialise from the process-wide generator, which parallel training of tile positions would
/// share; re-drawing every parameter from a per-model generator makes a model depend on its seed alone.
/// Convolutions and linear layers get kaiming-uniform(a = √5) weights, i.e. U(±1/√fan_in), and U(±1/√fan_in)
/// biases; normalization layers get weight 1 and bias 0.
/// </remarks>
internal static class SeededInitialization
{
    public static void Apply(nn.Module module, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var parameters = module.named_parameters().ToList();
        var fanIn = new Dictionary<string, long>();
        foreach (var (name, parameter) in parameters)
        {
            if (parameter.dim() >= 2 && name.EndsWith(".weight", StringComparison.Ordinal))
            {
                long receptive = parameter.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
                fanIn[name[..^".weight".Length]] = parameter.shape[1] * receptive;
            }
        }

        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            int dot = name.LastIndexOf('.');
            string owner = dot < 0 ? string.Empty : name[..dot];
            if (fanIn.TryGetValue(owner, out long fan))
            {
                using var scope = NewDisposeScope();
                using var bound = (1.0 / Math.Sqrt(fan)).ToScalar();
                using var two = 2L.ToScalar();
                // U(0, 1) → U(-bound, bound)
                var sample = rand(parameter.shape, generator: generator).mul_(two).sub_(Scalars.One).mul_(bound);
                parameter.copy_(sample);
            }
        }
    }
}
