using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Options;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.PostProcessing;

namespace TiledEnsemble.Configuration;

/// <content>Devices, backbone names and the scale of the work.</content>
public sealed partial class TiledEnsembleOptionsValidator
{
    /// <summary>A training device list: parseable names of one kind, each GPU once, without per-device
    /// parallelism.</summary>
    private static void ValidateDevices(TiledEnsembleOptions options, List<string> failures)
    {
        var devices = options.Devices ?? new List<string>();
        if (devices.Count == 0)
        {
            return;
        }

        var parsed = new List<TorchSharp.torch.Device>();
        foreach (var name in devices)
        {
            try
            {
                parsed.Add(DeviceNames.Parse(name));
            }
            catch (ArgumentException exception)
            {
                failures.Add($"Devices: {exception.Message}");
            }
        }

        if (parsed.Count != devices.Count)
        {
            return;
        }

        string list = string.Join(", ", devices);
        if (parsed.Select(d => d.type).Distinct().Count() > 1)
        {
            failures.Add(
                $"Devices must all be of one kind (all CPU or all CUDA): results are exact per kind, and a mixed "
                    + $"list would make positions differ by where they ran; got [{list}]."
            );
        }

        var repeated = parsed
            .Where(d => d.type != TorchSharp.DeviceType.CPU)
            .GroupBy(d => d.index)
            .Where(g => g.Count() > 1)
            .Select(g => $"cuda:{g.Key}")
            .ToList();
        if (repeated.Count > 0)
        {
            failures.Add(
                $"Devices lists {string.Join(", ", repeated)} more than once; list each GPU once (one model is "
                    + $"resident per device); got [{list}]."
            );
        }

        if (devices.Count > 1 && options.MaxDegreeOfParallelism > 1)
        {
            failures.Add(
                $"Devices [{list}] train one position per device at a time; MaxDegreeOfParallelism must then be 1, "
                    + $"got {options.MaxDegreeOfParallelism}. Use one or the other."
            );
        }

        // Device keeps its default ("cpu") when only Devices is set; any other value must be the first device.
        bool deviceSet = !string.Equals(options.Device?.Trim(), "cpu", StringComparison.OrdinalIgnoreCase);
        if (
            deviceSet
            && failures.Count == 0
            && DeviceNames.Name(DeviceNames.Parse(options.Device)) != DeviceNames.Name(parsed[0])
        )
        {
            failures.Add(
                $"Device '{options.Device}' differs from the first of Devices [{list}]; prediction runs on the first "
                    + $"device: set Device to it or leave it unset."
            );
        }
    }

    private static TiledEnsemble.Models.Backbones.BackboneKind? TryParseBackbone(string name)
    {
        try
        {
            return TiledEnsemble.Models.Backbones.BackboneNames.Parse(name);
        }
        catch (ArgumentException)
        {
            return null; // reported by the backbone-name rule
        }
    }

    /// <summary>Most tile positions accepted (a 128 × 128 grid): beyond, a run would hold more models than anyone
    /// trains.</summary>
    internal const int MaxPositions = 16384;

    /// <summary>
    /// Refuses sizes that cannot work before anything touches the disk: an image side beyond <c>MaxInputSide</c>, more
    /// than <see cref="MaxPositions"/> tile positions, or a batch of images at the image size larger than half the
    /// memory the process may use.
    /// </summary>
    private static void CheckScale(TiledEnsembleOptions options, List<string> failures)
    {
        if (
            options.ImageHeight <= 0
            || options.ImageWidth <= 0
            || options.StrideHeight <= 0
            || options.StrideWidth <= 0
            || options.TileHeight <= 0
            || options.TileWidth <= 0
        )
        {
            return; // reported as non-positive
        }

        if (options.ImageHeight > options.MaxInputSide || options.ImageWidth > options.MaxInputSide)
        {
            failures.Add(
                $"ImageSize {options.ImageHeight}x{options.ImageWidth} is beyond MaxInputSide "
                    + $"{options.MaxInputSide}; choose a smaller image size (tiles keep the detail) or raise "
                    + $"MaxInputSide."
            );
        }

        long rows = Math.Max(
            1,
            (long)Math.Ceiling((double)(options.ImageHeight - options.TileHeight) / options.StrideHeight) + 1
        );
        long columns = Math.Max(
            1,
            (long)Math.Ceiling((double)(options.ImageWidth - options.TileWidth) / options.StrideWidth) + 1
        );
        if (rows * columns > MaxPositions)
        {
            failures.Add(
                $"The tiling gives {rows}x{columns} = {rows * columns:N0} tile positions (one model each), more than "
                    + $"{MaxPositions:N0}; use larger tiles, a larger stride or a smaller image size."
            );
        }

        long batchBytes =
            (long)Math.Max(options.TrainBatchSize, options.EvalBatchSize)
            * 3
            * options.ImageHeight
            * options.ImageWidth
            * sizeof(float);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (options.TrainBatchSize > 0 && options.EvalBatchSize > 0 && available > 0 && batchBytes > available / 2)
        {
            failures.Add(
                $"A batch of {Math.Max(options.TrainBatchSize, options.EvalBatchSize)} images at "
                    + $"{options.ImageHeight}x{options.ImageWidth} needs {batchBytes / (1 << 20):N0} MiB, more than "
                    + $"half of the {available / (1 << 20):N0} MiB this process may use; lower the batch size or "
                    + $"the image size."
            );
        }
    }
}
