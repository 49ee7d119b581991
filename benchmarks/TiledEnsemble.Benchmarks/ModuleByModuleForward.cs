using System.Collections.Generic;
using System.Linq;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// A backbone run as torchvision runs it: every module's own forward (libtorch's convolutions, 1×1 ones included, then
/// a separate batch norm and ReLU), on the same channels-last input and pooling as the library: what the library's
/// forward pass computed before batch norms were folded and 1×1 convolutions became matrix products.
/// </summary>
internal static class ModuleByModuleForward
{
    // Alpha of the residual sum, held for the process: t + u would pass a temporary 1 (TE0001).
    private static readonly Scalar One = 1L.ToScalar();

    public static Tensor[] Features(ResNet backbone, Tensor images, IReadOnlyList<string> layers)
    {
        using var scope = NewDisposeScope();
        var parts = Children(backbone);
        var x = F.relu(Call(parts["bn1"], Call(parts["conv1"], Pooling.ChannelsLastOnCpu(images))));
        x = Pooling.MaxPool(x, 3, 2, 1);
        int deepest = layers.Max(BackboneNames.LayerIndex);
        var outputs = new Tensor[5];
        for (int layer = 1; layer <= deepest; layer++)
        {
            foreach (var block in parts[$"layer{layer}"].children())
            {
                x = Block(block, x);
            }

            outputs[layer] = x;
        }

        return layers.Select(l => outputs[BackboneNames.LayerIndex(l)].MoveToOuterDisposeScope()).ToArray();
    }

    private static Tensor Block(nn.Module block, Tensor input)
    {
        using var scope = NewDisposeScope();
        var parts = Children(block);
        var x = F.relu(Call(parts["bn1"], Call(parts["conv1"], input)));
        x = Call(parts["bn2"], Call(parts["conv2"], x));
        if (parts.TryGetValue("conv3", out var conv3))
        {
            x = Call(parts["bn3"], Call(conv3, F.relu(x)));
        }

        var identity = parts.TryGetValue("downsample", out var downsample) ? Call(downsample, input) : input;
        return F.relu(x.add(identity, One)).MoveToOuterDisposeScope();
    }

    private static Dictionary<string, nn.Module> Children(nn.Module module) =>
        module.named_children().ToDictionary(c => c.name, c => c.module);

    private static Tensor Call(nn.Module module, Tensor input) => ((nn.Module<Tensor, Tensor>)module).forward(input);
}
