using System;

namespace TiledEnsemble.Models;

/// <summary>Checks that a saved state was made by the model and settings it is loaded into.</summary>
public static class ModelStateChecks
{
    /// <summary>
    /// Throws unless <paramref name="state"/> was saved by model <paramref name="model"/> (its setting "model") with
    /// setting <paramref name="key"/> equal to <paramref name="expected"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Another model, a missing setting or another value; the message names
    /// them.</exception>
    public static void Expect(ModelState state, string model, string key, string expected)
    {
        var saved = state.RequireSetting("model", model);
        if (saved != model)
        {
            throw new ArgumentException($"The saved state is of model '{saved}', not {model}.");
        }

        var value = state.RequireSetting(key, model);
        if (value != expected)
        {
            throw new ArgumentException(
                $"The saved {model} state has {key} '{value}' but this model has '{expected}'."
            );
        }
    }
}
