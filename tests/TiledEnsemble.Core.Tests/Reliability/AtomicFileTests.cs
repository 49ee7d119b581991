using System;
using System.IO;
using System.Linq;
using Xunit;

namespace TiledEnsemble.Tests.Reliability;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("atomic-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(20)]
    [InlineData(210)]
    [InlineData(255)]
    public void NamesUpToTheFileSystemsLimitAreWrittenWithoutLeavingTemporaries(int length)
    {
        // A legal name of that many bytes (ext4 allows 255); its temporary must fit too.
        var name = new string('n', length - 4) + ".csv";
        var path = Path.Combine(_folder, name);
        AtomicFile.WriteAllText(path, "a,b\n");
        AtomicFile.WriteAllText(path, "c,d\n");
        Assert.Equal("c,d\n", File.ReadAllText(path));
        Assert.Equal(new[] { name }, Directory.GetFiles(_folder).Select(Path.GetFileName));
        Assert.True(AtomicFile.TemporaryName(name).Length <= 255);
        Assert.StartsWith(".", AtomicFile.TemporaryName(name), StringComparison.Ordinal);
    }
}
