using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace TiledEnsemble.Benchmarks;

/// <summary>
/// Where the backbone's gap to ONNX Runtime lies: both sides timed up to layer1 (stem and layer1), layer2 and layer3 on
/// a quiet machine, alternating passes; a stage's time is the difference of two depths' median times.
/// </summary>
/// <remarks>
/// Stage by stage, the layers' shapes differ: layer1 runs 64 channels at a quarter of the input side, layer3 256
/// channels at a sixteenth, so a stage whose ratio falls short of the others points at the convolution kernels for that
/// shape.
/// </remarks>
internal static class PeerStagesBenchmark
{
    private static readonly string[] Layers = { "layer1", "layer2", "layer3" };

    public static void Run(bool quick)
    {
        using var peer = PeerNetworks.Load();
        var sessions = Layers.Select(peer.Session).ToArray();
        try
        {
            Console.WriteLine(
                $"## The backbone against ONNX Runtime {OrtEnv.Instance().GetVersionString()} stage by stage (same "
                    + $"graph and weights as `peer`, quiet machine, {get_num_threads()} threads each)"
            );
            Console.WriteLine(
                "| input | stage | TiledEnsemble ms per image | ONNX Runtime ms per image | ratio (ONNX Runtime time "
                    + "/ TiledEnsemble time) | whole network up to this stage: ratio of paired passes (range) |"
            );
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            var cases = quick
                ? new[] { (2, 64, "2×64²") }
                : new[] { (4, 256, "4×256²"), (64, 128, "64 tiles of 128²") };
            foreach (var (batch, size, label) in cases)
            {
                using var scope = NewDisposeScope();
                using var generator = new Generator(3);
                var input = randn(new long[] { batch, 3, size, size }, generator: generator);
                var dense = new DenseTensor(input.data<float>().ToArray(), new[] { batch, 3, size, size });
                int repeats = quick ? 1 : Math.Max(1, 64 / batch);
                double previousOurs = 0,
                    previousTheirs = 0;
                for (int depth = 0; depth < Layers.Length; depth++)
                {
                    var layer = Layers[depth];
                    var session = sessions[depth];
                    peer.EnsureEqual(session, input, dense, layer, label);
                    var inputs = new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), dense) };
                    double Library() => Timing.ImagesPerSecond(batch * repeats, () =>
                        {
                            for (int r = 0; r < repeats; r++)
                            {
                                using var s = NewDisposeScope();
                                using var mode = inference_mode();
                                peer.Backbone.Features(input, new[] { layer });
                            }
                        });
                    double Onnx() => Timing.ImagesPerSecond(batch * repeats, () =>
                        {
                            for (int r = 0; r < repeats; r++)
                            {
                                using var result = session.Run(inputs);
                            }
                        });

                    var measured = PairedPasses.Measure(quick ? 2 : 8, Library, Onnx);
                    double ours = 1000 / measured.Model,
                        theirs = 1000 / measured.Bound;
                    double stageOurs = ours - previousOurs,
                        stageTheirs = theirs - previousTheirs;
                    string stage = depth == 0 ? "stem and layer1" : layer;
                    Console.WriteLine(
                        (
                            $"| {label} | {stage} | {stageOurs:F2} | {stageTheirs:F2} | {stageTheirs / stageOurs:F2} "
                            + $"| {measured.Ratio:F2} ({measured.MinRatio:F2}–{measured.MaxRatio:F2}) |"
                        )
                    );
                    (previousOurs, previousTheirs) = (ours, theirs);
                }
            }

            Console.WriteLine();
        }
        finally
        {
            foreach (var session in sessions)
            {
                session.Dispose();
            }
        }
    }
}
