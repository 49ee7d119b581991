using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Data.Datasets;
using TiledEnsemble.Evaluation;
using TiledEnsemble.Models;
using Xunit;

namespace TiledEnsemble.Tests;

/// <summary>
/// Accepting or rejecting parts from good images alone: a held-out share of the good training images calibrates the
/// thresholds by false-reject rate, and evaluation reports the defects caught at 1 % and 5 % of good parts rejected.
/// </summary>
public sealed class CalibratedDecisionTests : IClassFixture<GeneratedData>, System.IDisposable
{
    private readonly GeneratedData _data;
    private readonly string _runs = Directory.CreateTempSubdirectory("calibrated-runs-").FullName;

    public CalibratedDecisionTests(GeneratedData data) => _data = data;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task HeldOutGoodImagesSetThresholdsThatRejectTheAskedShareOfThem()
    {
        // 20 good training images: 10 held out (none fitted on), 10 to fit. 20 % may be rejected: two of the ten (F1's
        // fallback without defective images, the largest score, would reject one).
        var data = _data.Module(5, new SplitOptions { ValSplitMode = ValSplitMode.FromTrain, ValSplitRatio = 0.5 });
        Assert.Equal(10, data.Validation.Count);
        Assert.All(data.Validation, s => Assert.Equal(SampleLabel.Normal, s.Label));

        using var ensemble = TiledEnsembleBuilder
            .Create()
            .WithImageSize(128)
            .WithTiling(tileSize: 64, stride: 64)
            .WithModel(ModelKind.Padim, m => m.NFeatures = 40)
            .WithBatchSizes(5, 5)
            .WithFalseRejectRate(0.2)
            .WithSeed(5)
            .Build();
        var run = Path.Combine(_runs, "run0");
        await ensemble.FitAsync(data, run);

        using var scope = TorchSharp.torch.NewDisposeScope();
        using var reopened = Ensemble.Load(run);
        var held = data.Validation.Select(s => reopened.Predict(s.ImagePath)).ToList();
        try
        {
            Assert.Equal(2, held.Count(p => p.Label));
            Assert.Equal(2, held.Count(p => p.Mask.any().item<bool>()));

            // Normalized at the image stage: the rejected images are the two highest, at or above the threshold 0.5.
            var rejected = held.Where(p => p.Label).Select(p => p.RawScore).Order();
            Assert.Equal(held.Select(p => p.RawScore).Order().TakeLast(2), rejected);
            Assert.All(held, p => Assert.Equal(p.Label, p.Score >= 0.5));
        }
        finally
        {
            held.ForEach(p => p.Dispose());
        }

        var evaluation = await reopened.EvaluateAsync(data.Test, new EvaluationOptions());
        foreach (var key in new[] { "image_TPR_at_1pct_FPR", "image_TPR_at_5pct_FPR" })
        {
            Assert.InRange(evaluation.Metrics[key], 0, 1);
        }

        Assert.True(evaluation.Metrics["image_TPR_at_5pct_FPR"] >= evaluation.Metrics["image_TPR_at_1pct_FPR"]);
    }
}
