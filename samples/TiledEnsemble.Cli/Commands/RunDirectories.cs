using System.IO;
using System.Linq;

namespace TiledEnsemble.Cli.Commands;

/// <summary>anomalib's result layout: root/&lt;model&gt;/&lt;dataset&gt;/&lt;category&gt;/runN.</summary>
internal static class RunDirectories
{
    public static string Next(string root, string model, string dataset, string category)
    {
        var parent = Path.Combine(root, model, dataset, category);
        Directory.CreateDirectory(parent);
        int next =
            Directory
                .GetDirectories(parent, "run*")
                .Select(d => int.TryParse(Path.GetFileName(d)[3..], out var n) ? n : -1)
                .DefaultIfEmpty(-1)
                .Max() + 1;
        return Path.Combine(parent, $"run{next}");
    }
}
