using System;
using System.IO;
using System.Linq;
using TiledEnsemble.Data.Imaging;
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

    /// <summary>Reads an image file and predicts it: the image [3, H, W] in [0, 1] (in the caller's dispose scope, for
    /// the picture) and its prediction.</summary>
    (Tensor Image, ImagePrediction Prediction) Predict(string file);

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

        public (Tensor Image, ImagePrediction Prediction) Predict(string file)
        {
            var image = ImageIO.ReadImage(file, maxSide: MaxInputSide, maxPixels: MaxInputPixels);
            return (image, _ensemble.Predict(image).Single());
        }

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

        // ONNX Runtime reads a managed array: the decoded image is copied there once and its tensor freed, and the
        // picture's image, the map and the mask are tensors over the arrays, so a large image is held once.
        public (Tensor Image, ImagePrediction Prediction) Predict(string file)
        {
            float[] pixels;
            int height,
                width;
            using (var scope = NewDisposeScope())
            {
                var decoded = ImageIO.ReadImage(file, maxSide: MaxInputSide, maxPixels: MaxInputPixels);
                height = (int)decoded.shape[1];
                width = (int)decoded.shape[2];
                pixels = decoded.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            }

            var result = _deployed.Predict(new DeployedImage(pixels, height, width));
            var boxes = result.Boxes.Select(b => new AnomalyBox(b.X1, b.Y1, b.X2, b.Y2, b.Score)).ToArray();
            var prediction = new ImagePrediction(
                Shared(result.AnomalyMap, 1, height, width),
                Shared(result.Mask, 1, height, width),
                result.Score,
                result.RawScore,
                result.Label,
                boxes
            );
            return (Shared(pixels, 3, height, width), prediction);
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

        /// <summary>A tensor of <paramref name="shape"/> over the array's memory (not copied).</summary>
        private static Tensor Shared(Array values, params long[] shape)
        {
            using var scope = NewDisposeScope();
            return from_array(values).reshape(shape).MoveToOuterDisposeScope();
        }
    }
}
