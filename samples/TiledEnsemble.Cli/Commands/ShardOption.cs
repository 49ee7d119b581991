using System;
using System.Globalization;
using TiledEnsemble.Cli.Config;

namespace TiledEnsemble.Cli.Commands;

/// <summary>
/// <c>--shard K/N</c>, or <c>--shard N</c> with K from the cluster: <c>JOB_COMPLETION_INDEX</c> (a Kubernetes Indexed
/// Job) or <c>SLURM_ARRAY_TASK_ID</c> (a Slurm job array, whose IDs must run 0..N−1).
/// </summary>
internal static class ShardOption
{
    public static readonly string[] IndexVariables = { "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID" };

    public static (int Index, int Count) Parse(string text, Func<string, string?> environment)
    {
        var parts = text.Split('/');
        int count;
        int index;
        if (
            parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out count)
        )
        {
            return Check(index, count, text);
        }

        if (parts.Length == 1 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out count))
        {
            foreach (var variable in IndexVariables)
            {
                if (environment(variable) is { Length: > 0 } value)
                {
                    return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out index)
                        ? Check(index, count, $"{variable}={value} of --shard {count}")
                        : throw new ConfigException($"{variable} is '{value}'; expected a shard index 0..{count - 1}.");
                }
            }

            throw new ConfigException(
                $"--shard {count} gives the shard count only; give K/{count}, or run where "
                    + $"{string.Join(" or ", IndexVariables)} sets the index."
            );
        }

        throw new ConfigException($"--shard '{text}' must be K/N (0 <= K < N) or N.");
    }

    private static (int, int) Check(int index, int count, string what) =>
        count >= 1 && index >= 0 && index < count
            ? (index, count)
            : throw new ConfigException($"--shard {what}: the index must be in 0..{count - 1} (N >= 1).");
}
