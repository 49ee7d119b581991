using System.Collections.Generic;
using TiledEnsemble.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>The flow of one feature scale: coupling blocks in sequence (FrEIA's SequenceINN, hence
/// <c>module_list</c>).</summary>
internal sealed class FlowSequence : Module
{
    private readonly ModuleList<CouplingBlock> module_list;

    public FlowSequence(string name, long channels, FastflowOptions options, long seed)
        : base(name)
    {
        using var generator = new Generator((ulong)seed);
        var blocks = new List<CouplingBlock>();
        for (int step = 0; step < options.FlowSteps; step++)
        {
            // As the paper: 3×3 subnets alternate with 1×1 ones unless only 3×3 is asked for.
            int kernel = step % 2 == 1 && !options.Conv3x3Only ? 1 : 3;
            blocks.Add(
                new CouplingBlock(
                    step.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    channels,
                    kernel,
                    options.HiddenRatio,
                    generator
                )
            );
        }

        module_list = ModuleList(blocks.ToArray());
        RegisterComponents();
    }

    /// <summary>z and the summed log|det J| per sample.</summary>
    /// <summary>The flow's output as ONNX nodes.</summary>
    public string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string x, long channels, string hint)
    {
        int step = 0;
        foreach (var block in module_list)
        {
            x = block.Export(g, x, channels, $"{hint}.{step++}");
        }

        return x;
    }

    public (Tensor Output, Tensor LogJacobian) Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var block in module_list)
        {
            var (y, logJacobian) = block.Forward(x);
            x = y;
            total = total is null ? logJacobian : total.add(logJacobian, Scalars.One);
        }

        return (x.MoveToOuterDisposeScope(), total!.MoveToOuterDisposeScope());
    }
}
