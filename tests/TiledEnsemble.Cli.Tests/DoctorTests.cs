using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TiledEnsemble.Cli;
using Xunit;

namespace TiledEnsemble.Cli.Tests;

public sealed class DoctorTests
{
    [Fact]
    public async Task TheDoctorDescribesTheMachineAndPassesOnIt()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(
            new[] { "doctor", "--backbone", "resnet18", "--tile-sizes", "36,50", "--batches", "2" },
            output,
            error
        );
        Assert.True(code == CliApp.Ok, output + error.ToString());
        var text = output.ToString();
        Assert.Contains("CPU:", text);
        Assert.Contains("ISA:", text);
        Assert.Contains("libtorch 2.", text);
        Assert.Contains("Threads:", text);
        Assert.Contains("NNPACK: off", text);
        Assert.Contains("resnet18, tile 50×50", text);

        // 2 tile sizes × 2 layouts × the distinct shapes at each (11 at both sizes: the stem, layer1, three per
        // stage).
        Assert.Contains("OK: 44 convolution runs", text);
    }

    [Theory]
    [InlineData("--tile-sizes", "4")]
    [InlineData("--batches", "one")]
    [InlineData("--backbone", "vgg16")]
    [InlineData("--tile-sizes", "100000")]
    [InlineData("--tile-sizes", "2147483647")]
    [InlineData("--batches", "100000")]
    [InlineData("--batches", "32,16", "--tile-sizes", "1024")]
    public async Task BadOptionsAreUsageErrorsNamingTheOption(string option, string value, params string[] more)
    {
        var error = new StringWriter();
        var args = new[] { "doctor", option, value }.Concat(more).ToArray();
        int code = await CliApp.RunAsync(args, new StringWriter(), error);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(option, error.ToString());
    }

    [Fact]
    public void WithOneDnnSwitchedOffByTheEnvironmentTheConvolutionsStillMatch()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (
            var argument in new[]
            {
                typeof(CliApp).Assembly.Location,
                "doctor",
                "--backbone",
                "resnet18",
                "--tile-sizes",
                "40",
                "--batches",
                "1",
            }
        )
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["TILEDENSEMBLE_ONEDNN"] = "0";
        using var child = Process.Start(start)!;
        var text = child.StandardOutput.ReadToEnd();
        var errors = child.StandardError.ReadToEnd();
        child.WaitForExit();
        Assert.True(child.ExitCode == 0, text + errors);
        Assert.Contains("oneDNN:     off", text);
        Assert.Contains("OK: ", text);
    }
}
