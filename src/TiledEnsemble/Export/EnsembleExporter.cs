using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Google.Protobuf;
using TiledEnsemble.Deployment;
using TiledEnsemble.Export.Onnx;
using TiledEnsemble.Persistence;

namespace TiledEnsemble.Export;

/// <summary>
/// Exports a trained run to a folder that any ONNX runtime executes: <c>model.onnx</c> (opset 17; weights in
/// <c>model.onnx.data</c> when they pass what one protocol buffer holds) takes images at the image size and gives the
/// final anomaly maps, scores, masks and labels, with tiling, the models, joining, seam smoothing and post-processing
/// inside; <c>manifest.json</c> describes the inputs and outputs, thresholds, the image-score aggregation and where the
/// backbone came from, with the checksum of every file (docs/deploy.md).
/// </summary>
public static class EnsembleExporter
{
    /// <summary>The opset the graphs use (the newest that Debian's onnx checker knows).</summary>
    public const int Opset = OnnxGraphBuilder.Opset;

    /// <summary>The graph's file name.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The external data file's name.</summary>
    public const string DataFile = "model.onnx.data";

    /// <summary>Exports the run <paramref name="predictor"/> opened.</summary>
    /// <param name="predictor">A trained run, opened for prediction.</param>
    /// <param name="outputDirectory">A new or empty folder.</param>
    /// <param name="options">Where the weights go.</param>
    /// <param name="progress">Receives a step per tile position and one when the files are written.</param>
    /// <exception cref="NotSupportedException">A stage or model has no ONNX form; the message names it. Nothing is
    /// written.</exception>
    /// <exception cref="IOException">The output folder is not empty (nothing there is changed).</exception>
    public static ExportResult Export(
        EnsemblePredictor predictor,
        string outputDirectory,
        ExportOptions? options = null,
        IProgress<EnsembleProgress>? progress = null
    )
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options ??= new ExportOptions();
        var watch = Stopwatch.StartNew();
        PipelineGraph.CheckExportable(predictor.Definition);
        if (
            File.Exists(outputDirectory)
            || (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
        )
        {
            throw new IOException(
                $"The export folder '{outputDirectory}' exists and is not empty; choose a new folder (nothing there "
                    + $"is changed)."
            );
        }

        Directory.CreateDirectory(outputDirectory);
        bool external = WeightBytes(predictor.RunDirectory) > options.ExternalDataAboveBytes;
        var dataTemporary = Path.Combine(outputDirectory, $".{DataFile}.{Guid.NewGuid():N}.tmp");
        try
        {
            ModelProto model;
            using (var data = external ? File.Create(dataTemporary) : null)
            {
                var g = data is null ? new OnnxGraphBuilder() : new OnnxGraphBuilder(data, DataFile);
                PipelineGraph.Build(g, predictor, progress);
                model = Model(g, predictor);
            }

            if (external)
            {
                File.Move(dataTemporary, Path.Combine(outputDirectory, DataFile));
            }

            AtomicFile.WriteAllBytes(Path.Combine(outputDirectory, ModelFile), model.ToByteArray(), overwrite: false);
            var manifest = Manifest(predictor, outputDirectory, external);
            AtomicFile.WriteAllText(
                Path.Combine(outputDirectory, ExportManifest.FileName),
                ExportManifestStore.Serialize(manifest)
            );
            progress?.Report(
                new EnsembleProgress(
                    EnsembleStage.Exporting,
                    predictor.Grid.Count + 1,
                    predictor.Grid.Count + 1,
                    "written"
                )
            );
            return new ExportResult(
                outputDirectory,
                manifest.Model.Bytes,
                manifest.ExternalData?.Bytes ?? 0,
                predictor.Grid.Count,
                watch.Elapsed
            );
        }
        finally
        {
            File.Delete(dataTemporary);
        }
    }

    /// <summary>Opens the run in <paramref name="runDirectory"/> on the CPU and exports it.</summary>
    /// <param name="runDirectory">A trained run made with the library's stages.</param>
    /// <param name="outputDirectory">A new or empty folder.</param>
    /// <param name="options">Where the weights go.</param>
    /// <param name="progress">Receives a step per tile position and one when the files are written.</param>
    public static ExportResult Export(
        string runDirectory,
        string outputDirectory,
        ExportOptions? options = null,
        IProgress<EnsembleProgress>? progress = null
    )
    {
        using var predictor = EnsemblePredictor.Load(runDirectory, new EnsembleLoadOptions { Device = "cpu" });
        return Export(predictor, outputDirectory, options, progress);
    }

    private static ModelProto Model(OnnxGraphBuilder g, EnsemblePredictor predictor)
    {
        var model = g.ToModel("TiledEnsemble");
        model.ProducerVersion = RunStore.LibraryVersion;
        model.DocString = $"Tiled ensemble of {predictor.Definition.Model.Name}: {predictor.Grid}.";
        var thresholds = predictor.Pipeline.Thresholds;
        var metadata = new (string, string)[]
        {
            ("tiling", predictor.Grid.ToString()),
            ("model", predictor.Definition.Stages[StageRoles.Model].ToString()),
            ("image_score", Joining.ImageScores.Name(predictor.Settings.ImageScore)),
            (
                "image_threshold",
                thresholds.Image?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "per tile"
            ),
            (
                "pixel_threshold",
                thresholds.Pixel?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "per tile"
            ),
            ("normalized", thresholds.Normalized ? "true" : "false"),
            ("backbone_source", predictor.BackboneSource),
        };
        foreach (var (key, value) in metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    private static ExportManifest Manifest(EnsemblePredictor predictor, string directory, bool external)
    {
        var settings = predictor.Settings;
        var thresholds = predictor.Pipeline.Thresholds;
        var (inputs, outputs) = PipelineGraph.Contract(predictor.Grid);
        return new ExportManifest
        {
            LibraryVersion = RunStore.LibraryVersion,
            Opset = Opset,
            Model = ExportManifestStore.Entry(directory, ModelFile),
            ExternalData = external ? ExportManifestStore.Entry(directory, DataFile) : null,
            Inputs = inputs,
            Outputs = outputs,
            ImageHeight = settings.ImageSize.Height,
            ImageWidth = settings.ImageSize.Width,
            MaxInputSide = settings.MaxInputSide,
            Tiling = predictor.Grid.ToString(),
            ModelName = predictor.Definition.Model.Name,
            Stages = predictor.Definition.Stages.ToDictionary(s => s.Key, s => s.Value.ToString()),
            ImageScore = Joining.ImageScores.Name(settings.ImageScore),
            ImageThreshold = thresholds.Image,
            PixelThreshold = thresholds.Pixel,
            Normalized = thresholds.Normalized,
            BackboneSource = predictor.BackboneSource,
            RunChecksum = RunStore.ReadManifest(predictor.RunDirectory).Checksum,
        };
    }

    /// <summary>The bytes of a run's weights: the graph holds about as much.</summary>
    private static long WeightBytes(string runDirectory) =>
        Directory
            .EnumerateFiles(runDirectory, "*.safetensors", SearchOption.AllDirectories)
            .Sum(f => new FileInfo(f).Length);
}
