using System.Collections.Generic;
using TiledEnsemble.Hosting;
using Xunit;

namespace TiledEnsemble.Tests;

public class RetentionPolicyTests
{
    private const int Training = 4 << 20;
    private const int AfterTraining = 32 << 20;
    private readonly List<int> _set = new();
    private bool _environmentChose;
    private bool _allocatorAccepts = true;

    private RetentionPolicy Policy() => new(bytes =>
    {
        if (_allocatorAccepts)
        {
            _set.Add(bytes);
        }

        return _allocatorAccepts;
    }, () => _environmentChose, Training, AfterTraining);

    [Fact]
    public void TrainingSetsItsThresholdAndTheAfterTrainingOneWhenItEnds()
    {
        var policy = Policy();
        var (lease, applied) = policy.BeginTraining();
        Assert.True(applied);
        Assert.Equal(new[] { Training }, _set);
        Assert.Equal(Training, policy.Applied);
        lease.Dispose();
        lease.Dispose(); // a second dispose ends nothing more
        Assert.Equal(new[] { Training, AfterTraining }, _set);
        Assert.Equal(AfterTraining, policy.Applied);

        // A later training limits retention again.
        policy.BeginTraining().Lease.Dispose();
        Assert.Equal(new[] { Training, AfterTraining, Training, AfterTraining }, _set);
    }

    [Fact]
    public void OverlappingTrainingsSetTheTrainingThresholdOnceAndRestoreWhenTheLastEnds()
    {
        var policy = Policy();
        var first = policy.BeginTraining();
        var second = policy.BeginTraining();
        Assert.True(first.Applied);
        Assert.False(second.Applied);
        first.Lease.Dispose();
        Assert.Equal(new[] { Training }, _set);
        second.Lease.Dispose();
        Assert.Equal(new[] { Training, AfterTraining }, _set);
    }

    [Fact]
    public void AnApplicationsChoiceIsNeverOverridden()
    {
        var policy = Policy();
        Assert.True(policy.SetByApplication(8 << 20));
        policy.BeginTraining().Lease.Dispose();
        Assert.Equal(new[] { 8 << 20 }, _set);
        Assert.Equal(8 << 20, policy.Applied);

        // Chosen while a training runs: the training's end leaves it.
        var other = Policy();
        _set.Clear();
        var lease = other.BeginTraining().Lease;
        Assert.True(other.SetByApplication(1 << 20));
        lease.Dispose();
        Assert.Equal(new[] { Training, 1 << 20 }, _set);
        Assert.Equal(1 << 20, other.Applied);
    }

    [Fact]
    public void NothingIsSetWhenSwitchedOffChosenByTheEnvironmentOrUnsupported()
    {
        var off = Policy();
        off.Automatic = false;
        Assert.False(off.BeginTraining().Applied);

        _environmentChose = true;
        var environment = Policy();
        environment.BeginTraining().Lease.Dispose();
        Assert.Empty(_set);
        Assert.Equal(0, environment.Applied);

        _environmentChose = false;
        _allocatorAccepts = false; // not glibc
        var unsupported = Policy();
        var (lease, applied) = unsupported.BeginTraining();
        lease.Dispose();
        Assert.False(applied);
        Assert.False(unsupported.SetByApplication(Training));
        Assert.Equal(0, unsupported.Applied);
    }
}
