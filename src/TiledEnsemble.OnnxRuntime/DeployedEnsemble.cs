using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TiledEnsemble.Metrics;

namespace TiledEnsemble.Deployment;

/// <summary>
/// A tiled ensemble exported to ONNX (<c>tiled-ensemble export</c>), predicted with ONNX Runtime: no libtorch, no
/// TorchSharp. Images of any size are resized to the export's image size, predicted by the graph, and the map and mask
/// brought back to the image's size, as TiledEnsemble's predictor does. Immutable and thread-safe.
/// </summary>
public sealed class DeployedEnsemble : IDisposable
{
    private readonly InferenceSession _session;
    private readonly int _maxSide;
    private readonly long _maxPixels;

    private DeployedEnsemble(InferenceSession session, ExportManifest manifest, int maxSide, long maxPixels)
    {
        _session = session;
        _maxSide = maxSide;
        _maxPixels = maxPixels;
        ImageHeight = manifest.ImageHeight;
        ImageWidth = manifest.ImageWidth;
        ModelName = manifest.ModelName;
        Tiling = manifest.Tiling;
        ImageScore = manifest.ImageScore;
        ImageThreshold = manifest.ImageThreshold;
        PixelThreshold = manifest.PixelThreshold;
        Normalized = manifest.Normalized;
        BackboneSource = manifest.BackboneSource;
        Stages = manifest.Stages;
    }

    /// <summary>The image size the graph takes.</summary>
    public int ImageHeight { get; }

    /// <summary>The image size the graph takes.</summary>
    public int ImageWidth { get; }

    /// <summary>The per-tile model.</summary>
    public string ModelName { get; }

    /// <summary>The tile layout.</summary>
    public string Tiling { get; }

    /// <summary>How image scores are made.</summary>
    public string ImageScore { get; }

    /// <summary>The image threshold on the scale of <see cref="DeployedPrediction.Score"/> (null: per tile).</summary>
    public double? ImageThreshold { get; }

    /// <summary>The pixel threshold on the scale of <see cref="DeployedPrediction.AnomalyMap"/> (null: per
    /// tile).</summary>
    public double? PixelThreshold { get; }

    /// <summary>Whether maps and scores are normalized.</summary>
    public bool Normalized { get; }

    /// <summary>Where the backbone's weights came from, as the run recorded it.</summary>
    public string BackboneSource { get; }

    /// <summary>The largest image side accepted.</summary>
    public int MaxInputSide => _maxSide;

    /// <summary>The most pixels an image file may have.</summary>
    public long MaxInputPixels => _maxPixels;

    /// <summary>The stages the run was made with, by role.</summary>
    public IReadOnlyDictionary<string, string> Stages { get; }

    /// <summary>
    /// Opens an export folder: verifies the manifest's checksum and format, and the checksum of the graph (and its
    /// external data) before ONNX Runtime reads it; refuses a changed file with a message naming it.
    /// </summary>
    /// <exception cref="DeploymentException">The folder is not an export, or a file is missing or changed.</exception>
    /// <exception cref="NotSupportedException">The CUDA execution provider was asked for but is not in the ONNX Runtime
    /// package used.</exception>
    public static DeployedEnsemble Load(string exportDirectory, DeploymentOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(exportDirectory);
        options ??= new DeploymentOptions();
        if (options.MaxInputPixels <= 0 || options.MaxInputSide <= 0)
        {
            throw new ArgumentException(
                $"MaxInputSide ({options.MaxInputSide}) and MaxInputPixels ({options.MaxInputPixels}) must be "
                    + $"positive.",
                nameof(options)
            );
        }

        static Exception Fail(string path, string reason) => new DeploymentException(path, reason);
        var manifest = ExportManifestStore.Read(exportDirectory, Fail);
        var model = ExportManifestStore.Verify(exportDirectory, manifest.Model, Fail);
        if (manifest.ExternalData is { } data)
        {
            ExportManifestStore.Verify(exportDirectory, data, Fail);
        }

        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        if (options.IntraOpThreads is { } intra)
        {
            sessionOptions.IntraOpNumThreads = intra;
        }

        if (options.InterOpThreads is { } inter)
        {
            sessionOptions.InterOpNumThreads = inter;
        }

        if (options.Device == DeploymentDevice.Cuda)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            }
            catch (Exception exception)
                when (exception is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                throw new NotSupportedException(
                    $"ONNX Runtime's CUDA execution provider is not available ({exception.Message}). Reference "
                        + "Microsoft.ML.OnnxRuntime.Gpu.Linux or Microsoft.ML.OnnxRuntime.Gpu.Windows instead of "
                        + "Microsoft.ML.OnnxRuntime, with CUDA and cuDNN installed; or use DeploymentDevice.Cpu.",
                    exception
                );
            }
        }

        var session = new InferenceSession(model, sessionOptions);
        return new DeployedEnsemble(
            session,
            manifest,
            options.MaxInputSide ?? manifest.MaxInputSide,
            options.MaxInputPixels
        );
    }

    /// <summary>Predicts an image file (PNG, JPEG, BMP, TIFF; any size within the limits).</summary>
    /// <exception cref="DeploymentException">The file is not a readable image, or too large.</exception>
    public DeployedPrediction Predict(string imagePath) =>
        Predict(DeployedImage.FromFile(imagePath, _maxSide, _maxPixels));

    /// <summary>Predicts an image in memory (any size).</summary>
    public DeployedPrediction Predict(DeployedImage image) => Predict(new[] { image })[0];

    /// <summary>Predicts a batch of images of any sizes, in one run of the graph.</summary>
    /// <exception cref="ArgumentException">The batch is empty, or an image is larger than the limit.</exception>
    public IReadOnlyList<DeployedPrediction> Predict(IReadOnlyList<DeployedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            throw new ArgumentException("Give at least one image.", nameof(images));
        }

        int plane = ImageHeight * ImageWidth;
        var input = new float[images.Count * 3 * plane];
        for (int b = 0; b < images.Count; b++)
        {
            var image = images[b] ?? throw new ArgumentNullException(nameof(images), $"images[{b}] is null.");
            if (image.Height > _maxSide || image.Width > _maxSide)
            {
                throw new ArgumentException(
                    $"images[{b}] is {image.Height}x{image.Width}, beyond the limit of {_maxSide} pixels a side.",
                    nameof(images)
                );
            }

            ImageResampling.ResizeImage(
                image.Pixels,
                3,
                image.Height,
                image.Width,
                ImageHeight,
                ImageWidth,
                input.AsSpan(b * 3 * plane, 3 * plane)
            );
        }

        var outputs = Run(input, images.Count);
        var predictions = new DeployedPrediction[images.Count];
        for (int b = 0; b < images.Count; b++)
        {
            var image = images[b];
            var map = ImageResampling.RestoreMap(
                ImageSlice(outputs.Maps, b, plane),
                ImageHeight,
                ImageWidth,
                image.Height,
                image.Width
            );
            var mask = ImageResampling.RestoreMask(
                ImageSlice(outputs.Masks, b, plane),
                ImageHeight,
                ImageWidth,
                image.Height,
                image.Width
            );
            var boxes = RegionBoxes
                .FindInImage(mask, map, image.Height, image.Width)
                .Select(r => new DeployedBox(r.X1, r.Y1, r.X2, r.Y2, r.Score))
                .ToArray();
            predictions[b] = new DeployedPrediction(
                map,
                mask,
                image.Height,
                image.Width,
                outputs.Scores[b],
                outputs.RawScores[b],
                outputs.Labels[b],
                boxes
            );
        }

        return predictions;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    /// <summary>Image <paramref name="b"/>'s plane of a batch output: the output itself for a batch of one (nothing
    /// else holds it, and restoring at the image size keeps it), else a copy of the slice.</summary>
    private static T[] ImageSlice<T>(T[] batch, int b, int plane) =>
        batch.Length == plane ? batch : batch.AsSpan(b * plane, plane).ToArray();

    /// <summary>Runs the graph on <paramref name="count"/> images at the image size.</summary>
    private (float[] Maps, float[] Scores, float[] RawScores, bool[] Masks, bool[] Labels) Run(float[] input, int count)
    {
        var tensor = new DenseTensor<float>(input, new[] { count, 3, ImageHeight, ImageWidth });
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor("image", tensor) });
        T[] Output<T>(string name) => results.First(r => r.Name == name).AsTensor<T>().ToArray();
        return (
            Output<float>("anomaly_map"),
            Output<float>("score"),
            Output<float>("raw_score"),
            Output<bool>("mask"),
            Output<bool>("label")
        );
    }
}
