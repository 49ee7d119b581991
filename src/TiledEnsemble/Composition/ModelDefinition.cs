using System;
using System.Collections.Generic;
using TiledEnsemble.Configuration;
using TiledEnsemble.Models;

namespace TiledEnsemble;

/// <summary>
/// The model stage: how the model of each tile position is made, under the name the models give themselves
/// (<see cref="IAnomalyModel.Name"/>) and the settings that change them. Built-in models come from
/// <see cref="EnsembleSettings"/>; a model of one's own is given to
/// <see
/// cref="TiledEnsembleBuilder.WithModel(string, Func{ModelContext, IAnomalyModel}, IReadOnlyDictionary{string,
/// string}?)"/> and, to open its runs, to <see cref="EnsembleLoadOptions.Model"/>.
/// </summary>
public sealed class ModelDefinition : IPipelineStage
{
    private readonly Func<ModelContext, IAnomalyModel> _factory;

    /// <summary>Defines a model stage.</summary>
    /// <param name="name">The name the models report (<see cref="IAnomalyModel.Name"/>) and runs record.</param>
    /// <param name="factory">Makes the model of one position; each call returns a new, unfitted model.</param>
    /// <param name="settings">Settings that change the models' results (recorded and compared when a run is
    /// opened).</param>
    public ModelDefinition(
        string name,
        Func<ModelContext, IAnomalyModel> factory,
        IReadOnlyDictionary<string, string>? settings = null
    )
    {
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
        Identity = new StageIdentity(name, settings);
    }

    /// <inheritdoc />
    public StageIdentity Identity { get; }

    /// <summary>The models' name.</summary>
    public string Name => Identity.Name;

    /// <summary>Whether this is one of the library's models, made from the settings.</summary>
    public bool IsBuiltIn { get; private init; }

    /// <summary>The built-in model that <paramref name="settings"/> name.</summary>
    /// <exception cref="ArgumentException">The settings name no built-in model.</exception>
    public static ModelDefinition BuiltIn(EnsembleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var kind = settings.Model
            ?? throw new ArgumentException(
                "These settings are of a model of the caller's; give its ModelDefinition.",
                nameof(settings)
            );
        return new ModelDefinition(kind.ToString(), ModelFactory.Create, ModelFactory.Describe(settings))
        {
            IsBuiltIn = true,
        };
    }

    /// <summary>
    /// This model stage with every model passed through <paramref name="decorate"/> as it is made: for instrumentation
    /// (counting, timing, logging) that leaves results unchanged, since the run records the same identity.
    /// </summary>
    public ModelDefinition Decorate(Func<ModelContext, IAnomalyModel, IAnomalyModel> decorate)
    {
        ArgumentNullException.ThrowIfNull(decorate);
        var inner = _factory;
        return new ModelDefinition(Name, context => decorate(context, inner(context)), Identity.Settings)
        {
            IsBuiltIn = IsBuiltIn,
        };
    }

    /// <summary>Makes the model of one position and checks that it reports this definition's name.</summary>
    /// <exception cref="InvalidOperationException">The factory returned null or a model of another name.</exception>
    public IAnomalyModel Create(ModelContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = _factory(context)
            ?? throw new InvalidOperationException($"The factory of model '{Name}' returned null.");
        if (model.Name != Name)
        {
            string actual = model.Name;
            model.Dispose();
            throw new InvalidOperationException(
                $"The factory of model '{Name}' made a model named '{actual}'; a model stage's name is the name its "
                    + $"models "
                    + "report (IAnomalyModel.Name), so that saved states load only into the model that made them."
            );
        }

        return model;
    }
}
