using System.Collections.Generic;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class RetentionPolicyTests
{
    private static readonly AllocatorSetting Training = new(4 << 20, 8 << 20);
    private static readonly AllocatorSetting Prediction = new(1 << 30, 1 << 30);
    private readonly List<AllocatorSetting> _set = new();
    private bool _environmentChose;
    private bool _allocatorAccepts = true;

    private RetentionPolicy Policy() =>
        new(
            setting =>
            {
                if (_allocatorAccepts)
                {
                    _set.Add(setting);
                }

                return _allocatorAccepts;
            },
            () => _environmentChose,
            Training,
            Prediction
        );

    [Fact]
    public void TrainingSetsItsSettingAndThePredictionOneWhenItEnds()
    {
        var policy = Policy();
        var (lease, applied) = policy.BeginTraining();
        Assert.True(applied);
        Assert.Equal(new[] { Training }, _set);
        Assert.Equal(4 << 20, policy.Applied);

        // A run opened while training (the trained ensemble itself) does not switch to prediction yet.
        Assert.False(policy.BeginPrediction());
        lease.Dispose();
        lease.Dispose(); // a second dispose ends nothing more
        Assert.Equal(new[] { Training, Prediction }, _set);
        Assert.Equal(1 << 30, policy.Applied);

        // Opening more runs changes nothing; a later training limits retention again and restores prediction after.
        Assert.False(policy.BeginPrediction());
        policy.BeginTraining().Lease.Dispose();
        Assert.Equal(new[] { Training, Prediction, Training, Prediction }, _set);
    }

    [Fact]
    public void LoadingARunSetsThePredictionSettingOnce()
    {
        var policy = Policy();
        Assert.True(policy.BeginPrediction());
        Assert.False(policy.BeginPrediction());
        Assert.Equal(new[] { Prediction }, _set);
        Assert.Equal(1 << 30, policy.Applied);
    }

    [Fact]
    public void OverlappingTrainingsSetTheTrainingSettingOnceAndPredictionWhenTheLastEnds()
    {
        var policy = Policy();
        var first = policy.BeginTraining();
        var second = policy.BeginTraining();
        Assert.True(first.Applied);
        Assert.False(second.Applied);
        first.Lease.Dispose();
        Assert.Equal(new[] { Training }, _set);
        Assert.False(policy.BeginPrediction()); // one training still runs
        second.Lease.Dispose();
        Assert.Equal(new[] { Training, Prediction }, _set);
    }

    [Fact]
    public void AnApplicationsChoiceIsNeverOverridden()
    {
        var policy = Policy();
        Assert.True(policy.SetByApplication(8 << 20));
        policy.BeginTraining().Lease.Dispose();
        Assert.False(policy.BeginPrediction());
        Assert.Equal(new[] { new AllocatorSetting(8 << 20, null) }, _set);
        Assert.Equal(8 << 20, policy.Applied);

        // Chosen while a training runs: the training's end leaves it.
        var other = Policy();
        _set.Clear();
        var lease = other.BeginTraining().Lease;
        Assert.True(other.SetByApplication(1 << 20));
        lease.Dispose();
        Assert.Equal(new[] { Training, new AllocatorSetting(1 << 20, null) }, _set);
        Assert.Equal(1 << 20, other.Applied);
    }

    [Fact]
    public void NothingIsSetWhenSwitchedOffChosenByTheEnvironmentOrUnsupported()
    {
        var off = Policy();
        off.Automatic = false;
        Assert.False(off.BeginTraining().Applied);
        Assert.False(off.BeginPrediction());

        _environmentChose = true;
        var environment = Policy();
        environment.BeginTraining().Lease.Dispose();
        Assert.False(environment.BeginPrediction());
        Assert.Empty(_set);
        Assert.Equal(0, environment.Applied);

        _environmentChose = false;
        _allocatorAccepts = false; // not glibc
        var unsupported = Policy();
        var (lease, applied) = unsupported.BeginTraining();
        lease.Dispose();
        Assert.False(applied);
        Assert.False(unsupported.BeginPrediction());
        Assert.False(unsupported.SetByApplication(4 << 20));
        Assert.Equal(0, unsupported.Applied);
    }
}
