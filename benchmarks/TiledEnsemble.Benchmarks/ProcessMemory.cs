using System;
using System.IO;

namespace TiledEnsemble.Benchmarks;

/// <summary>Process memory as the kernel reports it (native TorchSharp allocations included).</summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set, in bytes.</summary>
    public static long Resident() => Read("VmRSS:");

    /// <summary>Peak resident set since start or the last <see cref="ResetPeak"/>, in bytes.</summary>
    public static long Peak() => Read("VmHWM:");

    /// <summary>Resets the peak to the current resident set (Linux 4.0+: write 5 to clear_refs).</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Minor page faults of the process so far (<c>/proc/self/stat</c>, field 10): pages touched for the first
    /// time.</summary>
    public static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");

        // The command name may hold spaces; the fields after it start with the state (field 3).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";

    private static long Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }
}
