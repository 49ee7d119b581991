using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export;
using TiledEnsemble.Prediction;
using TiledEnsemble.Visualization;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Commands;

/// <summary>What <c>predict</c> predicts with: a trained run (TorchSharp) or an exported one (ONNX Runtime).</summary>
internal interface IImagePredictor : IDisposable
{
    int MaxInputSide { get; }

    /// <summary>The most pixels of an image file.</summary>
    long MaxInputPixels { get; }

    /// <summary>The prediction of a [3, H, W] image in [0, 1].</summary>
    ImagePrediction Predict(Tensor image);

    void SavePicture(string path, Tensor image, ImagePrediction prediction, string name);
}

internal static class ImagePredictors
{
    /// <summary>The predictor of <paramref name="folder"/>: an export when it holds model.onnx, else a run.</summary>
    public static IImagePredictor Open(string folder, CommandContext context) =>
        File.Exists(Path.Combine(folder, EnsembleExporter.ModelFile))
            ? new Exported(DeployedEnsemble.Load(folder))
            : new Run(Ensemble.Load(folder, loggers: context.Loggers));

    private sealed class Run : IImagePredictor
    {
        private readonly Ensemble _ensemble;

        public Run(Ensemble ensemble) => _ensemble = ensemble;

        public int MaxInputSide => _ensemble.Settings.MaxInputSide;

        public long MaxInputPixels => _ensemble.Settings.MaxInputPixels;

        public ImagePrediction Predict(Tensor image) => _ensemble.Predict(image).Single();

        public void SavePicture(string path, Tensor image, ImagePrediction prediction, string name) =>
            _ensemble.SavePicture(path, image, prediction, name);

        public void Dispose() => _ensemble.Dispose();
    }

    private sealed class Exported : IImagePredictor
    {
        private readonly DeployedEnsemble _deployed;

        public Exported(DeployedEnsemble deployed) => _deployed = deployed;

        public int MaxInputSide => _deployed.MaxInputSide;

        public long MaxInputPixels => _deployed.MaxInputPixels;

        public ImagePrediction Predict(Tensor image)
        {
            int height = (int)image.shape[1],
                width = (int)image.shape[2];
            float[] pixels;
            using (var scope = NewDisposeScope())
            {
                pixels = image.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            }

            var result = _deployed.Predict(new DeployedImage(pixels, height, width));
            var boxes = result.Boxes.Select(b => new AnomalyBox(b.X1, b.Y1, b.X2, b.Y2, b.Score)).ToArray();
            return new ImagePrediction(
                tensor(result.AnomalyMap, new long[] { 1, height, width }),
                tensor(result.Mask, new long[] { 1, height, width }),
                result.Score,
                result.RawScore,
                result.Label,
                boxes
            );
        }

        public void SavePicture(string path, Tensor image, ImagePrediction prediction, string name) =>
            PredictionPicture.Save(
                path,
                image,
                prediction,
                name,
                _deployed.ImageThreshold,
                _deployed.PixelThreshold,
                _deployed.Normalized
            );

        public void Dispose() => _deployed.Dispose();
    }
}
