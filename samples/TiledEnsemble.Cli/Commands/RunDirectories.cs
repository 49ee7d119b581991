using System.IO;
using System.Linq;

namespace TiledEnsemble.Cli.Commands;

/// <summary>anomalib's result layout: root/&lt;model&gt;/&lt;dataset&gt;/&lt;category&gt;/runN.</summary>
internal static class RunDirectories
{
    /// <summary>The name of the run lock file (TiledEnsemble's run lock), whose exclusive creation claims a new run
    /// folder.</summary>
    private const string LockFile = ".lock";

    /// <summary>
    /// Claims the next free <c>runN</c>: the folder is created with its lock file, created exclusively, so that two
    /// trainings started at once without <c>--run-dir</c> get two folders instead of racing for one.
    /// </summary>
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
        while (true)
        {
            var candidate = Path.Combine(parent, $"run{next}");
            Directory.CreateDirectory(candidate);
            try
            {
                using (new FileStream(Path.Combine(candidate, LockFile), FileMode.CreateNew, FileAccess.Write))
                {
                    return candidate;
                }
            }
            catch (IOException) when (File.Exists(Path.Combine(candidate, LockFile)))
            {
                next++;
            }
        }
    }
}
