using System;
using System.IO;
using System.Linq;
using System.Threading;
using TiledEnsemble.Models;
using TiledEnsemble.Models.Backbones;
using TiledEnsemble.Persistence;
using TiledEnsemble.Tiling;
using static TorchSharp.torch;

namespace TiledEnsemble.Prediction;

/// <summary>
/// The trained models of a run's positions: loaded from their verified state files one at a time, or all kept in
/// memory once prediction asks for that. Thread-safe: models are loaded once under a lock and only read.
/// </summary>
internal sealed class PositionModels : IDisposable
{
    private readonly EnsembleDefinition _definition;
    private readonly ResNet _backbone;
    private readonly Device _device;
    private readonly string _runDirectory;
    private readonly RunManifest _manifest;
    private readonly object _gate = new();
    private IAnomalyModel[]? _resident;

    public PositionModels(
        EnsembleDefinition definition,
        ResNet backbone,
        Device device,
        string runDirectory,
        RunManifest manifest
    )
    {
        _definition = definition;
        _backbone = backbone;
        _device = device;
        _runDirectory = runDirectory;
        _manifest = manifest;
    }

    /// <summary>The shared backbone the models use.</summary>
    public ResNet Backbone => _backbone;

    /// <summary>
    /// Runs <paramref name="run"/> with the model of <paramref name="position"/>: the resident one when models are in
    /// memory, else (with <paramref name="makeResident"/> and the settings keeping models resident) after loading them
    /// all, else a model loaded for this call only.
    /// </summary>
    public T With<T>(TilePosition position, bool makeResident, Func<IAnomalyModel, T> run)
    {
        int index = (position.Row * _definition.Grid.Columns) + position.Column;
        if (Volatile.Read(ref _resident) is { } resident)
        {
            return run(resident[index]);
        }

        if (_definition.Settings.KeepModelsResident && makeResident)
        {
            return run(Resident()[index]);
        }

        using var model = Load(position);
        return run(model);
    }

    /// <summary>A new model of <paramref name="position"/> with its trained state (the caller disposes it).</summary>
    /// <exception cref="RunIntegrityException">The run has no model for the position, or its file does not
    /// verify.</exception>
    public IAnomalyModel Load(TilePosition position)
    {
        var entry = _manifest.Positions.FirstOrDefault(p => p.Row == position.Row && p.Column == position.Column)
            ?? throw new RunIntegrityException(
                Path.Combine(_runDirectory, RunStore.ManifestFile),
                $"no trained model for position ({position.Row}, {position.Column})."
            );
        using var state = RunStore.LoadState(_runDirectory, entry.State);
        var model = _definition.Model.Create(new ModelContext(_backbone, _device, position, _definition.Settings));
        try
        {
            model.ImportState(state);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    public void Dispose()
    {
        if (_resident is not null)
        {
            foreach (var model in _resident)
            {
                model.Dispose();
            }
        }
    }

    private IAnomalyModel[] Resident()
    {
        if (_resident is { } ready)
        {
            return ready;
        }

        lock (_gate)
        {
            _resident ??= _definition.Grid.Positions.Select(Load).ToArray();
            return _resident;
        }
    }
}
