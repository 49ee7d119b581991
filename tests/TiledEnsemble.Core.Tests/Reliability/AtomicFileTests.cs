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

    [Fact]
    public void SweepingDeletesAbandonedTemporariesAndSparesLiveOnesAndOtherFiles()
    {
        var nested = Directory.CreateDirectory(Path.Combine(_folder, "images")).FullName;
        var abandoned = new[]
        {
            Path.Combine(_folder, AtomicFile.TemporaryName("predictions.csv")),
            Path.Combine(nested, AtomicFile.TemporaryName(new string('n', 250))),
        };
        foreach (var file in abandoned)
        {
            File.WriteAllText(file, "half-written");
        }

        var kept = new[]
        {
            ".config.tmp",
            "a.tmp",
            ".x." + new string('0', 31) + ".tmp",
            ".y." + new string('G', 32) + ".tmp",
        }
            .Select(n => Path.Combine(_folder, n))
            .ToList();
        kept.ForEach(f => File.WriteAllText(f, "mine"));
        var live = Path.Combine(_folder, AtomicFile.TemporaryName("heatmap.png"));
        using (var writer = new FileStream(live, FileMode.CreateNew, FileAccess.Write))
        {
            Assert.Equal(1, AtomicFile.SweepAbandoned(_folder));
            Assert.False(File.Exists(abandoned[0]));
            Assert.True(File.Exists(abandoned[1]));
            Assert.Equal(1, AtomicFile.SweepAbandoned(_folder, recursive: true));
            Assert.True(File.Exists(live));
        }

        Assert.Equal(1, AtomicFile.SweepAbandoned(_folder, recursive: true));
        Assert.All(kept, f => Assert.True(File.Exists(f)));
        var left = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName);
        Assert.DoesNotContain(left, n => AtomicFile.IsTemporaryName(n!));
    }
}
