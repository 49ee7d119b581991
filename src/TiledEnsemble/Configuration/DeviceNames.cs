using System;
using System.Globalization;
using static TorchSharp.torch;

namespace TiledEnsemble.Configuration;

/// <summary>Parses device names: "cpu", "cuda", "cuda:N".</summary>
public static class DeviceNames
{
    /// <summary>The TorchSharp device for <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA requested where it is not available.</exception>
    public static Device Parse(string? name)
    {
        var value = (name ?? string.Empty).Trim().ToLowerInvariant();
        if (value is "cpu" or "")
        {
            return CPU;
        }

        if (
            value == "cuda"
            || (
                value.StartsWith("cuda:", StringComparison.Ordinal)
                && int.TryParse(value[5..], NumberStyles.None, CultureInfo.InvariantCulture, out _)
            )
        )
        {
            if (!cuda.is_available())
            {
                throw new ArgumentException(
                    $"Device '{name}' asks for CUDA, but CUDA is not available here (is a TorchSharp-cuda runtime "
                        + $"package referenced and a GPU present?). Use \"cpu\".",
                    nameof(name)
                );
            }

            int index = value == "cuda" ? 0 : int.Parse(value[5..], CultureInfo.InvariantCulture);
            if (index >= cuda.device_count())
            {
                throw new ArgumentException(
                    $"Device '{name}' does not exist; {cuda.device_count()} CUDA device(s) are available.",
                    nameof(name)
                );
            }

            return device(TorchSharp.DeviceType.CUDA, index);
        }

        throw new ArgumentException($"Device must be \"cpu\", \"cuda\" or \"cuda:N\"; got '{name}'.", nameof(name));
    }

    /// <summary>The name <see cref="Parse"/> reads back: "cpu" or "cuda:N".</summary>
    internal static string Name(Device device) =>
        device.type == TorchSharp.DeviceType.CPU
            ? "cpu"
            : $"{device.type.ToString().ToLowerInvariant()}:{Math.Max(0, device.index)}";
}
