using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace TiledEnsemble;

/// <summary>
/// What a pipeline stage is, as a run records it: a stable name and the settings that change its results. Two stages
/// with equal identities must give equal results; a run made with one refuses to load with another.
/// </summary>
/// <remarks>
/// The name is letters, digits, <c>_</c>, <c>-</c> and <c>.</c>, for example <c>mean_joiner</c>, <c>Padim</c> or
/// <c>acme.max_joiner</c>; settings are invariant-culture strings. Equality compares the name (case-sensitively) and
/// every setting.
/// </remarks>
public sealed class StageIdentity : IEquatable<StageIdentity>
{
    private static readonly Regex NamePattern = new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", RegexOptions.CultureInvariant);

    /// <summary>Creates an identity.</summary>
    /// <param name="name">The stage's stable name.</param>
    /// <param name="settings">Settings that change the stage's results (null: none).</param>
    /// <exception cref="ArgumentException">The name is not of the form above, or a setting's key is empty.</exception>
    public StageIdentity(string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (name is null || !NamePattern.IsMatch(name))
        {
            throw new ArgumentException(
                $"A stage name is 1 to 100 letters, digits, '_', '-' and '.', starting with a letter or digit; "
                    + $"got '{name}'.",
                nameof(name)
            );
        }

        var copy = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrEmpty(key) || value is null)
            {
                throw new ArgumentException(
                    $"Stage '{name}' has a setting with an empty key or a null value.",
                    nameof(settings)
                );
            }

            copy[key] = value;
        }

        Name = name;
        Settings = copy;
    }

    /// <summary>The stage's stable name.</summary>
    public string Name { get; }

    /// <summary>Settings that change the stage's results, sorted by key.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>An invariant-culture string of a number, as identities write them.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public bool Equals(StageIdentity? other) =>
        other is not null
        && Name == other.Name
        && Settings.Count == other.Settings.Count
        && Settings.All(s => other.Settings.TryGetValue(s.Key, out var value) && value == s.Value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as StageIdentity);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Settings.Count);

    /// <summary><c>name {key=value, …}</c>.</summary>
    public override string ToString() =>
        Settings.Count == 0 ? Name : $"{Name} {{{string.Join(", ", Settings.Select(s => $"{s.Key}={s.Value}"))}}}";
}
