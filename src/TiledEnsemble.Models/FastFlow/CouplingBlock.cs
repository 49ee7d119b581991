using System;
using System.Linq;
using TiledEnsemble.Export;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.FastFlow;

/// <summary>
/// One flow step in the manner of FrEIA's AllInOneBlock (as FastFlow uses it): an affine coupling whose scale is
/// soft-clamped (clamp·tanh, clamp 2), then a learned global affine (softplus-activated scale, offset) and a fixed
/// channel permutation. Parameter names match FrEIA's (<c>subnet.0.weight</c>, <c>global_scale</c>, <c>w_perm</c>,
/// …).
/// </summary>
internal sealed class CouplingBlock : Module
{
    private const double Clamp = 2.0;

    private readonly Sequential subnet;
    private readonly Parameter global_scale;
    private readonly Parameter global_offset;
    private readonly Parameter w_perm;
    private readonly Parameter w_perm_inv;
    private readonly long _kept;
    private readonly long _changed;

    public CouplingBlock(string name, long channels, int kernel, double hiddenRatio, Generator generator)
        : base(name)
    {
        _changed = channels / 2;
        _kept = channels - _changed;
        long hidden = Math.Max(1, (long)(_kept * hiddenRatio));
        subnet = Sequential(
            ("0", (Module<Tensor, Tensor>)Conv2d(_kept, hidden, kernel, padding: kernel / 2)),
            ("1", ReLU()),
            ("2", Conv2d(hidden, 2 * _changed, kernel, padding: kernel / 2))
        );

        // FrEIA's softplus global scaling: 0.1·softplus_β=0.5(a) equals 1 at a = 2·ln(e⁵ − 1).
        using var initial = (2 * Math.Log(Math.Exp(5) - 1)).ToScalar();
        global_scale = new Parameter(full(new long[] { 1, channels, 1, 1 }, initial), requires_grad: true);
        global_offset = new Parameter(zeros(1, channels, 1, 1), requires_grad: true);

        // Owned by the module: a model built inside a caller's dispose scope (the ensemble loads models lazily, during
        // a prediction) must not lose its parameters when that scope ends.
        global_scale.DetachFromDisposeScope();
        global_offset.DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        var order = randperm(channels, generator: generator);
        var permutation = zeros(channels, channels);
        permutation.scatter_(1, order.unsqueeze(1), ones(channels, 1));
        w_perm = new Parameter(permutation.reshape(channels, channels, 1, 1).clone(), requires_grad: false);
        w_perm_inv = new Parameter(
            permutation.t().contiguous().reshape(channels, channels, 1, 1),
            requires_grad: false
        );
        w_perm.DetachFromDisposeScope();
        w_perm_inv.DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>FrEIA's activation 0.1·softplus_β=0.5(a) = 0.2·(relu(a/2) + log1p(exp(−|a/2|))), written out
    /// (stable form).</summary>
    private Tensor GlobalScale()
    {
        using var scope = NewDisposeScope();
        using var fifth = 0.2.ToScalar();
        var half = global_scale.mul(Scalars.Half);
        return half.relu().add(half.abs().neg().exp().log1p(), Scalars.One).mul(fifth).MoveToOuterDisposeScope();
    }

    /// <summary>The subnet (convolution, ReLU, convolution), its convolutions through
    /// <see cref="Convolutions"/>.</summary>
    private Tensor Subnet(Tensor kept)
    {
        using var scope = NewDisposeScope();
        var layers = subnet.children().ToArray();
        var hidden = Convolutions.Forward((Conv2d)layers[0], kept).relu();
        return Convolutions.Forward((Conv2d)layers[2], hidden).MoveToOuterDisposeScope();
    }

    /// <summary>z and log|det J| per sample [B].</summary>
    /// <summary>The block's output (not its log-Jacobian) as ONNX nodes; the global scale and permutation are
    /// constants.</summary>
    public string Export(TiledEnsemble.Export.OnnxGraphBuilder g, string x, long channels, string hint)
    {
        var kept = g.Slice(x, new long[] { 0 }, new[] { _kept }, new long[] { 1 });
        var changed = g.Slice(x, new[] { _kept }, new[] { channels }, new long[] { 1 });
        var layers = subnet.children().ToArray();
        var hidden = g.Relu(FoldedConvolution.ExportPlain(g, (Conv2d)layers[0], kept, $"{hint}.subnet.0"));
        var a = g.Mul(
            FoldedConvolution.ExportPlain(g, (Conv2d)layers[2], hidden, $"{hint}.subnet.2"),
            g.Scalar($"{hint}.tenth", 0.1f)
        );
        var logScale = g.Mul(
            g.Unary("Tanh", g.Slice(a, new long[] { 0 }, new[] { _changed }, new long[] { 1 })),
            g.Scalar($"{hint}.clamp", (float)Clamp)
        );
        var shift = g.Slice(a, new[] { _changed }, new[] { 2 * _changed }, new long[] { 1 });
        var coupled = g.Add(g.Mul(changed, g.Unary("Exp", logScale)), shift);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y = g.Add(
            g.Mul(g.Concat(1, new[] { kept, coupled }), g.Initializer($"{hint}.scale", GlobalScale())),
            g.Initializer($"{hint}.offset", global_offset)
        );
        var order = w_perm.squeeze(-1).squeeze(-1).argmax(1).data<long>().ToArray();
        return g.Gather(y, g.Ints($"{hint}.order", order), 1);
    }

    public (Tensor Output, Tensor LogJacobian) Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var kept = x.narrow(1, 0, _kept);
        var changed = x.narrow(1, _kept, _changed);
        using var tenth = 0.1.ToScalar();
        using var clamp = Clamp.ToScalar();
        var a = Subnet(kept).mul(tenth);
        var logScale = a.narrow(1, 0, _changed).tanh().mul(clamp);
        var coupled = changed.mul(logScale.exp()).add(a.narrow(1, _changed, _changed), Scalars.One);
        var logJacobian = logScale.sum(new long[] { 1, 2, 3 });

        var y = cat(new[] { kept, coupled }, 1);
        var scale = GlobalScale();
        y = y.mul(scale).add(global_offset, Scalars.One);
        var order = w_perm.squeeze(-1).squeeze(-1).argmax(1);
        y = y.index_select(1, order);
        long pixels = x.shape[2] * x.shape[3];
        using var pixelCount = pixels.ToScalar();
        logJacobian = logJacobian.add(scale.log().sum().mul(pixelCount), Scalars.One);
        return (y.MoveToOuterDisposeScope(), logJacobian.MoveToOuterDisposeScope());
    }
}
