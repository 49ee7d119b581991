using System;
using System.Threading;

namespace TiledEnsemble.Hosting;

/// <summary>
/// Decides which mmap threshold the process runs with, and when: <see cref="NativeAllocator"/>'s state, separated from
/// glibc so that its rules can be tested with a recording setter.
/// </summary>
/// <remarks>
/// Rules: an application's own choice (a <see cref="SetByApplication"/> call, or the <c>MALLOC_MMAP_THRESHOLD_</c>
/// variable) is never overridden; otherwise, when automatic, the first of any overlapping trainings sets the training
/// threshold and the last to end sets the after-training threshold.
/// </remarks>
internal sealed class RetentionPolicy
{
    private readonly Func<int, bool> _setThreshold;
    private readonly Func<bool> _environmentChose;
    private readonly int _trainingThreshold;
    private readonly int _afterTrainingThreshold;
    private readonly object _gate = new();
    private int _trainings;
    private bool _applicationChose;
    private bool _trainingThresholdInEffect;
    private int _applied;

    public RetentionPolicy(Func<int, bool> setThreshold, Func<bool> environmentChose, int trainingThreshold, int afterTrainingThreshold)
    {
        _setThreshold = setThreshold;
        _environmentChose = environmentChose;
        _trainingThreshold = trainingThreshold;
        _afterTrainingThreshold = afterTrainingThreshold;
    }

    /// <summary>Whether trainings set thresholds (the application can switch it off).</summary>
    public bool Automatic { get; set; } = true;

    /// <summary>The threshold last set, in bytes; 0 when none was.</summary>
    public int Applied => Volatile.Read(ref _applied);

    /// <summary>The application's own threshold: applied now, and never changed automatically afterwards.</summary>
    public bool SetByApplication(int thresholdBytes)
    {
        lock (_gate)
        {
            if (!_setThreshold(thresholdBytes))
            {
                return false;
            }

            _applicationChose = true;
            _trainingThresholdInEffect = false;
            Volatile.Write(ref _applied, thresholdBytes);
            return true;
        }
    }

    /// <summary>A training starts; disposing the result says it ended (successfully or not).</summary>
    /// <returns>The lease, and whether this call set the training threshold.</returns>
    public (IDisposable Lease, bool Applied) BeginTraining()
    {
        lock (_gate)
        {
            bool applied = false;
            if (++_trainings == 1 && MayChoose() && _setThreshold(_trainingThreshold))
            {
                _trainingThresholdInEffect = true;
                Volatile.Write(ref _applied, _trainingThreshold);
                applied = true;
            }

            return (new Lease(this), applied);
        }
    }

    private bool MayChoose() => Automatic && !_applicationChose && !_environmentChose();

    private void EndTraining()
    {
        lock (_gate)
        {
            // Only the threshold this policy set for training is replaced; an application may have chosen since.
            if (--_trainings == 0 && _trainingThresholdInEffect && !_applicationChose && _setThreshold(_afterTrainingThreshold))
            {
                Volatile.Write(ref _applied, _afterTrainingThreshold);
            }

            if (_trainings == 0)
            {
                _trainingThresholdInEffect = false;
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
