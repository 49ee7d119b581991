using System;
using System.Collections.Generic;
using Xunit;

namespace TiledEnsemble.Tests.Stages;

public class StageIdentityTests
{
    [Fact]
    public void EqualityComparesTheNameAndEverySettingWhateverTheirOrder()
    {
        var a = new StageIdentity("acme.max_joiner", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        var b = new StageIdentity("acme.max_joiner", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("acme.max_joiner {a=1, b=2}", a.ToString());
        Assert.NotEqual(
            a,
            new StageIdentity("acme.max_joiner", new Dictionary<string, string> { ["a"] = "1", ["b"] = "3" })
        );
        Assert.NotEqual(a, new StageIdentity("acme.max_joiner", new Dictionary<string, string> { ["a"] = "1" }));
        Assert.NotEqual(a, new StageIdentity("Acme.max_joiner", a.Settings));
        Assert.Equal("mean_joiner", new StageIdentity("mean_joiner").ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("_leading")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    public void NamesOutsideTheAllowedCharactersAreRefusedWithTheName(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new StageIdentity(name));
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public void NumbersAreWrittenInTheirShortestRoundTripForm()
    {
        Assert.Equal("0.1", StageIdentity.Format(0.1));
        Assert.Equal("2", StageIdentity.Format(2.0));
        Assert.Equal(
            0.30000000000000004,
            double.Parse(StageIdentity.Format(0.1 + 0.2), System.Globalization.CultureInfo.InvariantCulture)
        );
    }
}
