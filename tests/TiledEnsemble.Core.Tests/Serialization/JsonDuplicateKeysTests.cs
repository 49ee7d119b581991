using Xunit;

namespace TiledEnsemble.Tests.Serialization;

public sealed class JsonDuplicateKeysTests
{
    [Theory]
    [InlineData("""{"a": 1, "a": 2}""", "$.a")]
    [InlineData("""{"s": {"x": 1, "y": {"x": 2}, "x": 3}}""", "$.s.x")]
    [InlineData("""{"p": [{"r": 0}, {"r": 1, "r": 2}]}""", "$.p[].r")]
    [InlineData("""[[{"k": true, "k": false}]]""", "$[][].k")]
    [InlineData("""{"a": {"b": 1}, "b": 2, "c": [1, {"b": 3}]}""", null)]
    [InlineData("""{"Checksum": "1", "checksum": "2"}""", null)]
    [InlineData("""{"a": 1,""", null)]
    public void TheFirstKeyHeldTwiceByOneObjectIsNamedByItsPath(string json, string? expected) =>
        Assert.Equal(expected, JsonDuplicateKeys.Find(json));
}
