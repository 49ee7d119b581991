using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>What a convolution result depends on: the processor, its instruction sets, the libraries and
/// threads.</summary>
/// <param name="Processor">Processor model (with family and model numbers on Linux).</param>
/// <param name="InstructionSets">Vector instruction sets the processor reports.</param>
/// <param name="CacheInformation">Whether the OS describes the CPU caches (oneDNN sizes its blocking from
/// them).</param>
/// <param name="TorchSharpVersion">TorchSharp's version.</param>
/// <param name="LibTorchVersion">libtorch's version.</param>
/// <param name="Threads">libtorch's intra-op threads.</param>
/// <param name="OneDnn">Whether libtorch's oneDNN convolutions are on (null: unknown).</param>
/// <param name="Nnpack">Whether libtorch's NNPACK switch is on (null: unknown).</param>
public sealed record RuntimeEnvironment(
    string Processor,
    IReadOnlyList<string> InstructionSets,
    bool? CacheInformation,
    string TorchSharpVersion,
    string LibTorchVersion,
    int Threads,
    bool? OneDnn,
    bool? Nnpack
)
{
    /// <summary>Reads the current process's environment.</summary>
    public static RuntimeEnvironment Current()
    {
        var torchSharp = typeof(torch).Assembly;
        var version = torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? torchSharp.GetName().Version?.ToString()
            ?? "unknown";
        return new RuntimeEnvironment(
            ReadProcessor(),
            InstructionSetNames(),
            OperatingSystem.IsLinux() ? Directory.Exists("/sys/devices/system/cpu/cpu0/cache/index0") : null,
            version.Split('+')[0],
            torch.__version__,
            torch.get_num_threads(),
            LibTorchSwitches.OneDnnEnabled,
            LibTorchSwitches.NnpackEnabled
        );
    }

    /// <summary>Lines for a report.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"CPU:        {Processor}";
        yield return $"ISA:        "
            + $"{(InstructionSets.Count == 0 ? "(none reported)" : string.Join(' ', InstructionSets))}";
        var caches = CacheInformation switch
        {
            null => "unknown",
            true => "described by the OS",
            false => "not described by the OS (/sys has no cache information)",
        };
        yield return $"CPU caches: {caches}";
        yield return $"TorchSharp: {TorchSharpVersion}; libtorch {LibTorchVersion}";
        yield return $"Threads:    {Threads}";
        yield return $"oneDNN:     {OnOff(OneDnn)}; NNPACK: {OnOff(Nnpack)}; OpenMP wait policy: "
            + $"{Hosting.OpenMpWaitPolicy.Applied}";
    }

    private static string OnOff(bool? value) =>
        value is null ? "unknown"
        : value.Value ? "on"
        : "off";

    private static string ReadProcessor()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
        {
            var fields = File.ReadLines("/proc/cpuinfo")
                .TakeWhile(l => l.Length > 0)
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2)
                .GroupBy(p => p[0].Trim())
                .ToDictionary(g => g.Key, g => g.First()[1].Trim());
            if (fields.TryGetValue("model name", out var name))
            {
                var family = fields.GetValueOrDefault("cpu family", "?");
                var model = fields.GetValueOrDefault("model", "?");
                return $"{name} (family {family}, model {model}), {Environment.ProcessorCount} logical processors";
            }
        }

        return $"{RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical processors";
    }

    private static List<string> InstructionSetNames()
    {
        var sets = new List<string>();
        void Add(bool supported, string name)
        {
            if (supported)
            {
                sets.Add(name);
            }
        }

        Add(Avx2.IsSupported, "avx2");
        Add(Fma.IsSupported, "fma");
        Add(Avx512F.IsSupported, "avx512f");
        Add(Avx512BW.IsSupported, "avx512bw");
        Add(Avx512DQ.IsSupported, "avx512dq");
        if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
        {
            // Extensions .NET has no intrinsics class for, but oneDNN dispatches on.
            var flags = File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))
                ?.Split(':', 2)[1]
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .ToHashSet()
                ?? new HashSet<string>();
            foreach (
                var flag in new[]
                {
                    "avx512vbmi",
                    "avx_vnni",
                    "avx512_vnni",
                    "avx512_bf16",
                    "avx512_fp16",
                    "amx_tile",
                    "amx_bf16",
                }
            )
            {
                Add(flags.Contains(flag), flag);
            }
        }

        return sets;
    }
}
