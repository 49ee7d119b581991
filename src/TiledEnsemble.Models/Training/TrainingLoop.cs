using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TiledEnsemble.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TiledEnsemble.Models.Training;

/// <summary>The epoch loop shared by the gradient-trained models.</summary>
internal static class TrainingLoop
{
    public static TrainingSummary Run(
        TrainedAnomalyModel model,
        Func<IEnumerable<Tensor>> training,
        Func<IEnumerable<ValidationBatch>>? validation,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(training);
        var options = model.Training;
        var parameters = model.TrainableParameters().ToList();
        using var optimizer = model.CreateOptimizer(parameters, options.LearningRate ?? model.DefaultLearningRate);
        Dictionary<string, Tensor>? best = null;
        double? bestMetric = null;
        int bestEpoch = 0,
            epochsRun = 0,
            steps = 0,
            checksWithoutGain = 0;
        double lastLoss = double.NaN;
        bool stoppedEarly = false;
        try
        {
            for (int epoch = 1; epoch <= options.MaxEpochs && !stoppedEarly; epoch++)
            {
                epochsRun = epoch;
                model.SetTraining(true);
                int step = 0;
                string? skipped = null;
                foreach (var batch in training())
                {
                    // Checked before a step, never inside one: a cancelled run keeps whole, consistent weights.
                    cancellationToken.ThrowIfCancellationRequested();
                    if (model.CannotTrainOn(batch) is { } reason)
                    {
                        skipped = reason;
                        continue;
                    }

                    step++;
                    using var scope = NewDisposeScope();
                    optimizer.ZeroGrad();
                    var loss = model.Loss(batch);
                    double value = loss.item<float>();
                    if (!double.IsFinite(value))
                    {
                        throw new TrainingDivergedException(model.Name, epoch, step, value);
                    }

                    loss.backward();
                    optimizer.Step();
                    steps++;
                    lastLoss = value;
                    progress?.Report(new TrainingProgress(epoch, step, value, null));
                }

                if (step == 0)
                {
                    throw new InvalidOperationException(
                        skipped is null
                            ? $"{model.Name} got no training batches in epoch {epoch}: the training stream is empty."
                            : $"{model.Name} could train on no batch of epoch {epoch}: {skipped}"
                    );
                }

                if (validation is null || (epoch % options.ValidationInterval != 0 && epoch != options.MaxEpochs))
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                double metric = Validate(model, validation(), options.Monitor, cancellationToken);
                progress?.Report(new TrainingProgress(epoch, 0, double.NaN, metric));
                if (double.IsNaN(metric))
                {
                    // One class only (a tile position none of whose validation tiles holds a defect pixel): nothing to
                    // choose an epoch by, so neither a checkpoint nor a patience step; as without validation, the
                    // last epoch's weights are kept.
                    continue;
                }

                if (bestMetric is null || metric > bestMetric.Value)
                {
                    bestMetric = metric;
                    bestEpoch = epoch;
                    Release(best);
                    best = Snapshot(model);
                    checksWithoutGain = 0;
                }
                else if (options.Patience is { } patience && ++checksWithoutGain >= patience)
                {
                    stoppedEarly = true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Finish(model, best, steps > 0);
            throw;
        }
        catch
        {
            Release(best);
            model.SetTraining(false);
            throw;
        }

        Finish(model, best, fitted: true);
        return new TrainingSummary(
            epochsRun,
            steps,
            lastLoss,
            best is null ? epochsRun : bestEpoch,
            bestMetric,
            stoppedEarly
        );
    }

    /// <summary>The monitored metric over the validation stream (NaN when it holds one class only).</summary>
    private static double Validate(
        TrainedAnomalyModel model,
        IEnumerable<ValidationBatch> batches,
        TrainingMetric monitor,
        CancellationToken cancellationToken
    )
    {
        model.SetTraining(false);
        if (monitor == TrainingMetric.GoodImageLoss)
        {
            return -GoodImageLoss(model, batches, cancellationToken);
        }

        var pixels = new PixelMetricsAccumulator();
        var scores = new List<float>();
        var labels = new List<bool>();
        foreach (var batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var prediction = model.PredictUnchecked(batch.Images);
            var known = batch.Labels.ge(Scalars.Zero).cpu();
            if (!known.any().item<bool>())
            {
                continue;
            }

            if (monitor == TrainingMetric.PixelAuroc)
            {
                pixels.Update(prediction.AnomalyMaps.cpu()[known], batch.Masks.cpu()[known]);
            }
            else
            {
                scores.AddRange(prediction.Scores.cpu()[known].to_type(ScalarType.Float32).data<float>().ToArray());
                labels.AddRange(batch.Labels.cpu()[known].gt(Scalars.Zero).data<bool>().ToArray());
            }
        }

        if (monitor == TrainingMetric.PixelAuroc)
        {
            return pixels.PixelCount == 0 ? double.NaN : pixels.Auroc();
        }

        if (scores.Count == 0)
        {
            return double.NaN;
        }

        using var s = tensor(scores.ToArray());
        using var l = tensor(labels.ToArray());
        return AnomalyMetrics.Auroc(s, l);
    }

    /// <summary>The training loss per good image of the validation stream, averaged over all of them whatever the
    /// batches (NaN when there is none).</summary>
    private static double GoodImageLoss(
        TrainedAnomalyModel model,
        IEnumerable<ValidationBatch> batches,
        CancellationToken cancellationToken
    )
    {
        double sum = 0;
        long count = 0;
        using var noGrad = no_grad();
        foreach (var batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var good = batch.Labels.eq(Scalars.Zero).to(batch.Images.device);
            long goodCount = good.sum().item<long>();
            if (goodCount == 0)
            {
                continue;
            }

            // Held-out good images are all good: their batch is used as it is, not copied by the mask.
            var images = goodCount == batch.Images.shape[0] ? batch.Images : batch.Images[good];
            double loss = model.Loss(images).item<float>();
            sum += model.LossSumsOverBatch ? loss : loss * goodCount;
            count += goodCount;
        }

        return count == 0 ? double.NaN : sum / count;
    }

    private static void Finish(TrainedAnomalyModel model, Dictionary<string, Tensor>? best, bool fitted)
    {
        if (best is not null)
        {
            Restore(model, best);
            Release(best);
        }

        model.SetTraining(false);
        model.MarkFitted(fitted);
    }

    private static Dictionary<string, Tensor> Snapshot(TrainedAnomalyModel model)
    {
        var copy = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, value) in model.Network.state_dict())
        {
            copy[name] = value.detach().clone().DetachFromDisposeScope();
        }

        return copy;
    }

    private static void Restore(TrainedAnomalyModel model, Dictionary<string, Tensor> snapshot)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in model.Network.state_dict())
        {
            value.copy_(snapshot[name]);
        }
    }

    private static void Release(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
