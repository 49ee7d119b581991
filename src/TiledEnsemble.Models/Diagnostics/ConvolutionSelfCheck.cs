using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Models.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>
/// Checks that the convolutions of the backbones compute right values on this CPU or device, against a float64
/// reference computed another way (im2col and one matrix product).
/// </summary>
/// <remarks>
/// libtorch's convolution kernels are chosen per processor and per shape, and a new processor can get a faulty one:
/// on AMD Zen 5, oneDNN's 1×1 path crashed or returned wrong channels for some feature-map sizes. A backbone therefore
/// checks, once per process for each input size, device and layout it meets, every distinct convolution it is about
/// to run (batch 1 or 2, the borders and 256 sampled positions of every output channel), and throws
/// <see cref="ConvolutionSelfCheckException"/> instead of producing wrong anomaly maps. <see cref="Run"/> is the
/// exhaustive version (<c>tiled-ensemble doctor</c>).
/// </remarks>
public static class ConvolutionSelfCheck
{
    /// <summary>Set to <c>0</c> to run libtorch's convolutions without oneDNN (its reference kernels:
    /// slower).</summary>
    public const string OneDnnVariable = "TILEDENSEMBLE_ONEDNN";

    /// <summary>Set to <c>0</c> to skip the check before first use (not recommended).</summary>
    public const string CheckVariable = "TILEDENSEMBLE_CONVOLUTION_CHECK";

    /// <summary>Set to <c>1</c> to leave libtorch's NNPACK switch on (the library turns it off, see
    /// docs/troubleshooting.md).</summary>
    public const string NnpackVariable = "TILEDENSEMBLE_NNPACK";

    private static readonly ConcurrentDictionary<VerifiedKey, Lazy<IReadOnlyList<ConvolutionMismatch>>> Verified =
        new();
    private static readonly Lazy<bool> Configured = new(ApplySwitches);

    /// <summary>
    /// Whether backbones check their convolutions before first use (once per input size, device and layout);
    /// on unless the environment variable <see cref="CheckVariable"/> is <c>0</c>.
    /// </summary>
    public static bool BeforeFirstUse { get; set; } = Environment.GetEnvironmentVariable(CheckVariable) != "0";

    /// <summary>Checks every convolution of the backbones at the sizes, batches and layouts of
    /// <paramref name="options"/>.</summary>
    /// <param name="options">What to cover; the defaults are the doctor's.</param>
    /// <param name="progress">Receives one line per backbone and tile size.</param>
    /// <param name="cancellationToken">Stops between convolutions.</param>
    public static ConvolutionCheckReport Run(
        ConvolutionCheckOptions? options = null,
        IProgress<string>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        options ??= new ConvolutionCheckOptions();
        EnsureConfigured();
        var device = new Device(options.Device ?? "cpu");
        var layouts = new[] { (true, options.ChannelsLast), (false, options.ChannelsFirst) }
            .Where(l => l.Item2)
            .Select(l => l.Item1)
            .ToArray();
        var mismatches = new List<ConvolutionMismatch>();
        int count = 0;
        foreach (var kind in options.Backbones)
        {
            using var backbone = ResNet.Create(kind, 0);
            foreach (var tile in options.TileSizes)
            {
                progress?.Report($"{BackboneNames.Name(kind)}, tile {tile}×{tile}");
                foreach (var shape in BackboneConvolutions.For(backbone, tile, tile, 4))
                {
                    foreach (var batch in options.Batches)
                    {
                        foreach (var channelsLast in layouts)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            count++;
                            if (
                                Compare(
                                    shape,
                                    batch,
                                    channelsLast,
                                    device,
                                    options.AllPositions ? null : options.SampledPositions,
                                    options.Seed
                                ) is
                                { } mismatch
                            )
                            {
                                mismatches.Add(mismatch);
                            }
                        }
                    }
                }
            }
        }

        return new ConvolutionCheckReport(RuntimeEnvironment.Current(), count, mismatches);
    }

    /// <summary>
    /// The check before first use: every distinct convolution <paramref name="backbone"/> runs up to layer
    /// <paramref name="deepestLayer"/> for <paramref name="input"/>'s size, device and layout, once per process.
    /// </summary>
    /// <exception cref="ConvolutionSelfCheckException">A convolution differs from the reference.</exception>
    internal static void EnsureVerified(ResNet backbone, Tensor input, int deepestLayer)
    {
        EnsureConfigured();
        if (!BeforeFirstUse)
        {
            return;
        }

        int batch = input.shape[0] > 1 ? 2 : 1;
        bool channelsLast = input.device_type == DeviceType.CPU;
        var key = new VerifiedKey(
            backbone.Kind,
            deepestLayer,
            input.shape[2],
            input.shape[3],
            input.device.ToString(),
            batch
        );
        var mismatches = Verified
            .GetOrAdd(key, k => new Lazy<IReadOnlyList<ConvolutionMismatch>>(() =>
                BackboneConvolutions
                    .For(backbone, k.Height, k.Width, k.DeepestLayer)
                    .Select(shape => Compare(shape, k.Batch, channelsLast, input.device, 256, 1))
                    .OfType<ConvolutionMismatch>()
                    .ToList()
            ))
            .Value;
        if (mismatches.Count > 0)
        {
            throw new ConvolutionSelfCheckException(mismatches, RuntimeEnvironment.Current());
        }
    }

    /// <summary>
    /// Applies the library's libtorch switches now (once per process): NNPACK off unless <see cref="NnpackVariable"/>
    /// is <c>1</c>, oneDNN off when <see cref="OneDnnVariable"/> is <c>0</c>. Backbones do it before their first use.
    /// </summary>
    public static void EnsureConfigured() => _ = Configured.Value;

    /// <summary>One convolution run against the reference; null when every compared value is within its
    /// bound.</summary>
    /// <param name="shape">The convolution.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="channelsLast">Whether the input gets channels-last strides.</param>
    /// <param name="device">Where both run.</param>
    /// <param name="sampledPositions">Positions per image to compare (with the borders); all when null.</param>
    /// <param name="seed">Seed of the input and weights.</param>
    /// <param name="convolution">The convolution under test (the models' routing unless a test injects
    /// another).</param>
    internal static ConvolutionMismatch? Compare(
        ConvolutionShape shape,
        int batch,
        bool channelsLast,
        Device device,
        int? sampledPositions,
        long seed,
        Func<Tensor, Tensor, long, long, Tensor>? convolution = null
    )
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(
            (ulong)(
                seed
                ^ (shape.InChannels * 7919)
                ^ (shape.OutChannels * 104729)
                ^ (shape.InputHeight * 31)
                ^ shape.Kernel
            )
        );
        using var gain = Math.Sqrt(2.0 / (shape.InChannels * shape.Kernel * shape.Kernel)).ToScalar();
        var weight = randn(
                new[] { shape.OutChannels, shape.InChannels, shape.Kernel, shape.Kernel },
                generator: generator
            )
            .mul_(gain)
            .to(device);
        var input = randn(
                new[] { (long)batch, shape.InChannels, shape.InputHeight, shape.InputWidth },
                generator: generator
            )
            .to(device);
        if (channelsLast)
        {
            input = input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        }

        convolution ??= (x, w, stride, padding) =>
            Convolutions.Apply(x, w, null, new[] { stride, stride }, new[] { padding, padding }, new[] { 1L, 1L }, 1);
        var output = convolution(input, weight, shape.Stride, shape.Padding);
        long positions = shape.OutputHeight * shape.OutputWidth;
        var selected = Positions(shape, sampledPositions, generator)?.to(device);
        var actual = output.reshape(batch, shape.OutChannels, positions).to(ScalarType.Float64);
        if (selected is not null)
        {
            actual = actual.index_select(2, selected);
        }

        var (expected, bound) = ConvolutionReference.Compute(input, weight, shape.Stride, shape.Padding, selected);
        var error = actual.sub(expected).abs_();

        // NaN compares false: count a NaN output as wrong explicitly.
        var wrong = error.gt(bound).logical_or_(error.isnan());
        long wrongCount = wrong.sum().item<long>();
        if (wrongCount == 0)
        {
            return null;
        }

        var channels = wrong.any(2).any(0).nonzero().flatten();
        var worst = error.nan_to_num(double.MaxValue).flatten().argmax().item<long>();
        return new ConvolutionMismatch(
            shape,
            batch,
            channelsLast,
            error.flatten()[worst].item<double>(),
            bound.flatten()[worst].item<double>(),
            channels[0].item<long>(),
            channels[-1].item<long>(),
            wrongCount,
            error.numel()
        );
    }

    /// <summary>Flattened output positions to compare: the four borders and random interior ones; null for
    /// all.</summary>
    private static Tensor? Positions(ConvolutionShape shape, int? sampled, Generator generator)
    {
        long h = shape.OutputHeight,
            w = shape.OutputWidth;
        if (sampled is null || h * w <= sampled.Value)
        {
            return null;
        }

        var chosen = new SortedSet<long>();
        for (long x = 0; x < w; x++)
        {
            chosen.Add(x);
            chosen.Add(((h - 1) * w) + x);
        }

        for (long y = 0; y < h; y++)
        {
            chosen.Add(y * w);
            chosen.Add((y * w) + w - 1);
        }

        using var order = randperm(h * w, generator: generator);
        foreach (var candidate in order.data<long>())
        {
            if (chosen.Count >= sampled.Value)
            {
                break;
            }

            chosen.Add(candidate);
        }

        return tensor(chosen.ToArray());
    }

    private static bool ApplySwitches()
    {
        if (Environment.GetEnvironmentVariable(OneDnnVariable) == "0")
        {
            LibTorchSwitches.SetOneDnn(false);
        }

        // Nothing here runs on NNPACK (it serves batches of 16 and more that oneDNN takes first), but libtorch asks for
        // it on every small batch-1 convolution, and where NNPACK cannot initialize (AMD Zen 5 in a VM) each question
        // prints a warning and retries the initialization.
        if (Environment.GetEnvironmentVariable(NnpackVariable) != "1")
        {
            LibTorchSwitches.SetNnpack(false);
        }

        return true;
    }

    private sealed record VerifiedKey(
        BackboneKind Kind,
        int DeepestLayer,
        long Height,
        long Width,
        string Device,
        int Batch
    );
}
