using System;
using System.Threading;

namespace TiledEnsemble.Hosting;

/// <summary>
/// Decides which allocator setting the process runs with, and when: <see cref="NativeAllocator"/>'s state, separated
/// from glibc so that its rules can be tested with a recording setter.
/// </summary>
/// <remarks>
/// Rules: an application's own choice (a <see cref="SetByApplication"/> call, or glibc's malloc variables in the
/// environment) is never overridden; otherwise, when automatic, the first of any overlapping trainings sets the
/// training setting, the last to end sets the prediction setting, and opening an ensemble for prediction sets the
/// prediction setting unless a training is running.
/// </remarks>
internal sealed class RetentionPolicy
{
    private readonly Func<AllocatorSetting, bool> _apply;
    private readonly Func<bool> _environmentChose;
    private readonly AllocatorSetting _training;
    private readonly AllocatorSetting _prediction;
    private readonly object _gate = new();
    private int _trainings;
    private bool _applicationChose;
    private Setting _inEffect;
    private int _applied;

    /// <summary>Which of this policy's own settings is in effect.</summary>
    private enum Setting
    {
        None,
        Training,
        Prediction,
    }

    public RetentionPolicy(
        Func<AllocatorSetting, bool> apply,
        Func<bool> environmentChose,
        AllocatorSetting training,
        AllocatorSetting prediction
    )
    {
        _apply = apply;
        _environmentChose = environmentChose;
        _training = training;
        _prediction = prediction;
    }

    /// <summary>Whether trainings and predictions set the allocator (the application can switch it off).</summary>
    public bool Automatic { get; set; } = true;

    /// <summary>The mmap threshold last set, in bytes; 0 when none was.</summary>
    public int Applied => Volatile.Read(ref _applied);

    /// <summary>The application's own mmap threshold: applied now, and never changed automatically
    /// afterwards.</summary>
    public bool SetByApplication(int thresholdBytes)
    {
        lock (_gate)
        {
            if (!_apply(new AllocatorSetting(thresholdBytes, null)))
            {
                return false;
            }

            _applicationChose = true;
            _inEffect = Setting.None;
            Volatile.Write(ref _applied, thresholdBytes);
            return true;
        }
    }

    /// <summary>A training starts; disposing the result says it ended (successfully or not).</summary>
    /// <returns>The lease, and whether this call set the training setting.</returns>
    public (IDisposable Lease, bool Applied) BeginTraining()
    {
        lock (_gate)
        {
            bool applied = false;
            if (++_trainings == 1 && MayChoose() && Apply(_training))
            {
                _inEffect = Setting.Training;
                applied = true;
            }

            return (new Lease(this), applied);
        }
    }

    /// <summary>An ensemble is ready to predict: the prediction setting, unless a training runs or it is in
    /// effect.</summary>
    /// <returns>Whether this call set it.</returns>
    public bool BeginPrediction()
    {
        lock (_gate)
        {
            if (_trainings > 0 || _inEffect == Setting.Prediction || !MayChoose() || !Apply(_prediction))
            {
                return false;
            }

            _inEffect = Setting.Prediction;
            return true;
        }
    }

    private bool MayChoose() => Automatic && !_applicationChose && !_environmentChose();

    private bool Apply(AllocatorSetting setting)
    {
        if (!_apply(setting))
        {
            return false;
        }

        Volatile.Write(ref _applied, setting.MmapThresholdBytes);
        return true;
    }

    private void EndTraining()
    {
        lock (_gate)
        {
            // Only the setting this policy made for training is replaced (an application that chose since reset it to
            // None).
            if (--_trainings == 0 && _inEffect == Setting.Training)
            {
                _inEffect = Apply(_prediction) ? Setting.Prediction : Setting.None;
            }
        }
    }

    private sealed class Lease(RetentionPolicy policy) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                policy.EndTraining();
            }
        }
    }
}
