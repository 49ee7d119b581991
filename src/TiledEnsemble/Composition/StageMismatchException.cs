using System;

namespace TiledEnsemble;

/// <summary>
/// A run was made with other stages than the ones given to open or resume it: a stage of the caller's that was not
/// given, or a given stage of another name or other settings. The message names the stage and both identities.
/// </summary>
public sealed class StageMismatchException : InvalidOperationException
{
    internal StageMismatchException(string runDirectory, string role, StageIdentity recorded, StageIdentity? given)
        : base(Describe(runDirectory, role, recorded, given))
    {
        Role = role;
        Recorded = recorded;
        Given = given;
    }

    /// <summary>The stage's role: tiler, joiner, seam_smoother, post_processor or model.</summary>
    public string Role { get; }

    /// <summary>The stage the run was made with.</summary>
    public StageIdentity Recorded { get; }

    /// <summary>The stage given, or null when none was given for a stage of the caller's.</summary>
    public StageIdentity? Given { get; }

    private static string Describe(string runDirectory, string role, StageIdentity recorded, StageIdentity? given) =>
        given is null
            ? $"'{runDirectory}' was made with the {role} '{recorded}', which is not one of the library's: give that "
                + $"{role} "
                + $"(EnsembleLoadOptions.{StageRoles.Property(role)}) to open it."
            : $"'{runDirectory}' was made with the {role} '{recorded}', but the {role} given is '{given}'. Give the "
                + $"{role} the "
                + "run was made with; nothing was loaded.";
}
