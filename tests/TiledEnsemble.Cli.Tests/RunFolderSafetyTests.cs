using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TiledEnsemble.Data.Imaging;
using TiledEnsemble.Data.Synthetic;
using TiledEnsemble.Persistence;
using Xunit;
using static TorchSharp.torch;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// A careless or hostile user, through the real command line in its own processes: two trainings on one folder,
/// changed data on resume, signals, header bombs, oversize and colliding files, empty folders, absurd settings and a
/// full disk. Each ends with the exit code and message docs/cli.md promises, and nothing saved is lost or corrupted.
/// </summary>
[Collection(nameof(KillAndResumeTests))]
public sealed class RunFolderSafetyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("safety-").FullName;

    public RunFolderSafetyTests()
    {
        TestRunFiles.WriteFabric(_root, 96, trainCount: 12, testGoodCount: 2, DefectKind.Spot);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ASecondTrainingOnTheSameFolderFailsAtOnceNamingTheHolderAndTheFirstFinishesIntact()
    {
        var config = Config();
        var run = Path.Combine(_root, "shared");
        using var first = CliProcess.Start(_root, null, "train", "--config", config, "--run-dir", run, "--no-test");
        Assert.True(
            first.WaitUntil(() => File.Exists(Path.Combine(run, RunLock.HolderFile)), TimeSpan.FromMinutes(2)),
            "the first training never took the lock"
        );
        Assert.False(
            first.HasExited,
            "the first training ended before the second could start; the test needs a longer training"
        );

        var (code, _, error) = CliProcess.Run(_root, "train", "--config", Config(), "--run-dir", run, "--no-test");
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Contains($"process {first.Id} on host {Environment.MachineName}", error);
        Assert.Contains(run, error);

        var (firstCode, _, firstError) = first.Wait(TimeSpan.FromMinutes(5));
        Assert.True(firstCode == CliApp.Ok, firstError);
        var manifest = RunStore.ReadManifest(run);
        Assert.True(manifest.Complete);
        Assert.Equal(12, manifest.Data!.TrainCount);
        Assert.Equal(
            0,
            CliProcess
                .Run(_root, "predict", "--root", run, "--input", TestImage(), "--output", Path.Combine(_root, "out"))
                .Code
        );
    }

    [Fact]
    public void ResumingOnChangedDataIsRefusedUnlessAllowedAndSigtermAndSigintStopCleanly()
    {
        var config = Config();
        var run = Path.Combine(_root, "changed");
        using (var training = CliProcess.Start(_root, null, "train", "--config", config, "--run-dir", run, "--no-test"))
        {
            Assert.True(
                training.WaitUntil(() => Positions(run) >= 2, TimeSpan.FromMinutes(2)),
                "no position was saved"
            );
            training.Signal("TERM");
            var (code, _, error) = training.Wait(TimeSpan.FromMinutes(2));
            Assert.True(code == CliApp.Terminated, $"SIGTERM gave {code}: {error}");
            Assert.Contains("finished work is kept", error);
        }

        int saved = Positions(run);
        var train = Path.Combine(_root, "data", "fabric", "train", "good");
        foreach (var file in Directory.GetFiles(train).OrderBy(f => f).Take(4))
        {
            File.Delete(file);
        }

        var refused = CliProcess.Run(_root, "train", "--config", config, "--run-dir", run, "--no-test");
        Assert.Equal(CliApp.RuntimeError, refused.Code);
        Assert.Contains("The data changed since", refused.Error);
        Assert.Contains("4 removed (first: train", refused.Error);
        Assert.Contains("--allow-changed-data", refused.Error);
        Assert.Equal(saved, Positions(run));

        // Allowed: it resumes, and Ctrl-C (SIGINT) stops it again with 130 and nothing half-written.
        using (
            var resumed = CliProcess.Start(
                _root,
                null,
                "train",
                "--config",
                config,
                "--run-dir",
                run,
                "--no-test",
                "--allow-changed-data"
            )
        )
        {
            Assert.True(resumed.WaitUntil(() => Positions(run) > saved, TimeSpan.FromMinutes(2)));
            resumed.Signal("INT");
            var (code, _, error) = resumed.Wait(TimeSpan.FromMinutes(2));
            Assert.True(code is CliApp.Interrupted or CliApp.Ok, $"SIGINT gave {code}: {error}");
        }

        var finished = CliProcess.Run(_root, "train", "--config", config, "--run-dir", run, "--no-test");
        Assert.True(finished.Code == CliApp.Ok, finished.Error);
        Assert.Equal(8, RunStore.ReadManifest(run).Data!.TrainCount);
        Assert.DoesNotContain(Directory.GetFiles(run, "*", SearchOption.AllDirectories), f =>
            f.EndsWith(".tmp", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void AHeaderBombIsRefusedFromItsHeaderInPredictAndTrainAndSkippedWhenAsked()
    {
        var run = TrainedRun();
        var bombs = Directory.CreateDirectory(Path.Combine(_root, "bombs")).FullName;
        var bomb = Path.Combine(bombs, "bomb.png");
        File.WriteAllBytes(bomb, PngHeaderOnly(100_000, 100_000));
        Assert.True(new FileInfo(bomb).Length < 100);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, error) = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            bombs,
            "--output",
            Path.Combine(_root, "bomb-out")
        );
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Contains("bomb.png", error);
        Assert.Contains("100000×100000", error);
        Assert.Contains("limit of 16384", error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60));
        Assert.False(
            Directory.Exists(Path.Combine(_root, "bomb-out"))
                && Directory.EnumerateFileSystemEntries(Path.Combine(_root, "bomb-out")).Any()
        );

        File.Copy(TestImage(), Path.Combine(bombs, "good.png"));
        var skipped = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            bombs,
            "--output",
            Path.Combine(_root, "bomb-skip"),
            "--skip-bad-files"
        );
        Assert.True(skipped.Code == CliApp.Ok, skipped.Error);
        var rows = File.ReadAllLines(Path.Combine(_root, "bomb-skip", "predictions.csv"));
        Assert.Contains(rows, r =>
            r.StartsWith(bomb, StringComparison.Ordinal) && r.Contains("skipped: the image is 100000×100000")
        );
        Assert.Contains(rows, r => r.Contains("good.png") && r.EndsWith(",ok", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_root, "bomb-skip", "bomb.png.npy")));

        // In the training folder it stops training, naming the file, before a model is fitted.
        File.Copy(bomb, Path.Combine(_root, "data", "fabric", "train", "good", "zzz.png"));
        var train = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config(),
            "--run-dir",
            Path.Combine(_root, "bomb-run"),
            "--no-test"
        );
        Assert.Equal(CliApp.RuntimeError, train.Code);
        Assert.Contains("zzz.png", train.Error);
        Assert.Contains("100000×100000", train.Error);
    }

    [Fact]
    public void PredictRefusesOutputsInTheRunOrInputFolderAndQuotesCsvFieldsAsRfc4180()
    {
        var run = TrainedRun();
        var inRun = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            TestImage(),
            "--output",
            Path.Combine(run, "out")
        );
        Assert.Equal(CliApp.UsageError, inRun.Code);
        Assert.Contains("is the run folder or inside it", inRun.Error);
        Assert.False(Directory.Exists(Path.Combine(run, "out")));

        // A legal Linux file name with a comma, quotes and a line break.
        var input = Directory.CreateDirectory(Path.Combine(_root, "odd")).FullName;
        var odd = Path.Combine(input, "a,\"b\"\nc.png");
        File.Copy(TestImage(), odd);
        var intoInput = CliProcess.Run(_root, "predict", "--root", run, "--input", input, "--output", input);
        Assert.Equal(CliApp.UsageError, intoInput.Code);
        Assert.Contains("is the --input folder or inside it", intoInput.Error);
        Assert.Single(Directory.GetFiles(input));

        var output = Path.Combine(_root, "odd-out");
        var (code, _, error) = CliProcess.Run(_root, "predict", "--root", run, "--input", input, "--output", output);
        Assert.True(code == CliApp.Ok, error);
        var text = File.ReadAllText(Path.Combine(output, "predictions.csv"));

        // The field is quoted with its quotes doubled, so the line break stays inside one record.
        var quoted = "\"" + odd.Replace("\"", "\"\"", StringComparison.Ordinal) + "\",";
        Assert.StartsWith("path,raw_score,normalized_score,label,status\n" + quoted, text, StringComparison.Ordinal);
        Assert.EndsWith(",ok\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ImagesOfExtremeShapeGetAPictureInsteadOfAnAbort()
    {
        // 2x4096: enlarged to be seen, its picture would have been a canvas 320,000 pixels wide (no surface; the
        // renderer failed with a NullReferenceException and the process aborted).
        var run = TrainedRun();
        var inputs = Directory.CreateDirectory(Path.Combine(_root, "extreme")).FullName;
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            Data.Imaging.ImageIO.WriteImage(Path.Combine(inputs, "line.png"), TorchSharp.torch.rand(3, 2, 4096));
            Data.Imaging.ImageIO.WriteImage(Path.Combine(inputs, "large.png"), TorchSharp.torch.rand(3, 2600, 300));
        }

        var output = Path.Combine(_root, "extreme-out");
        var predicted = CliProcess.Run(_root, "predict", "--root", run, "--input", inputs, "--output", output);
        Assert.True(predicted.Code == CliApp.Ok, predicted.Error);
        foreach (var name in new[] { "line.png", "large.png" })
        {
            var picture = Path.Combine(output, name + "_heatmap.png");
            var size = Data.Imaging.ImageIO.ReadSize(picture);
            Assert.InRange(size.Width, 1, 8192);
            Assert.InRange(size.Height, 1, 8192);
        }

        // The picture of the 2600-row image shows it reduced by 2 (panels of at most 2048 rows).
        Assert.InRange(Data.Imaging.ImageIO.ReadSize(Path.Combine(output, "large.png_heatmap.png")).Height, 1300, 1500);
    }

    [Fact]
    public void AFifoAmongTheImagesIsRefusedInsteadOfBlockingTrainAndPredict()
    {
        Assert.True(OperatingSystem.IsLinux(), "FIFOs are a Linux test; CI runs Linux.");
        var run = TrainedRun();
        var fifos = Directory.CreateDirectory(Path.Combine(_root, "fifos")).FullName;
        var fifo = Path.Combine(fifos, "stuck.png");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var predicted = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            fifos,
            "--output",
            Path.Combine(_root, "fifo-out")
        );
        Assert.Equal(CliApp.RuntimeError, predicted.Code);
        Assert.Contains("stuck.png", predicted.Error);
        Assert.Contains("not a regular file", predicted.Error);

        File.Move(fifo, Path.Combine(_root, "data", "fabric", "train", "good", "zzz.png"));
        var train = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config(),
            "--run-dir",
            Path.Combine(_root, "fifo-run"),
            "--no-test"
        );
        Assert.Equal(CliApp.RuntimeError, train.Code);
        Assert.Contains("zzz.png", train.Error);
        Assert.Contains("not a regular file", train.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(120), $"took {watch.Elapsed}");
    }

    [Fact]
    public void AnImageTruncatedPastItsHeaderStopsPredictWithTheRowsOfWhatWasWritten()
    {
        // The header is whole, so the check before predicting passes; decoding fails on the second file.
        var run = TrainedRun();
        var input = Directory.CreateDirectory(Path.Combine(_root, "truncated")).FullName;
        File.Copy(TestImage(), Path.Combine(input, "a.png"));
        var bytes = File.ReadAllBytes(TestImage());
        File.WriteAllBytes(Path.Combine(input, "b.png"), bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray());
        File.Copy(TestImage(), Path.Combine(input, "c.png"));
        var output = Path.Combine(_root, "truncated-out");

        var failed = CliProcess.Run(_root, "predict", "--root", run, "--input", input, "--output", output);
        Assert.Equal(CliApp.RuntimeError, failed.Code);
        Assert.Contains("b.png", failed.Error);
        var rows = File.ReadAllLines(Path.Combine(output, "predictions.csv")).Skip(1).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains("a.png", rows[0]);
        Assert.EndsWith(",ok", rows[0]);
        Assert.Contains("b.png", rows[1]);
        Assert.Matches(",,,,\"?failed: ", rows[1]);
        Assert.True(File.Exists(Path.Combine(output, "a.png.npy")));
        Assert.False(File.Exists(Path.Combine(output, "c.png.npy")));
    }

    [Fact]
    public void OversizeImagesAreSkippedWithTheirReasonAndCollidingNamesKeepSeparateOutputs()
    {
        var run = TrainedRun();
        var input = Directory.CreateDirectory(Path.Combine(_root, "mixed")).FullName;
        using (var scope = NewDisposeScope())
        {
            ImageIO.WriteImage(Path.Combine(input, "wide.png"), rand(3, 2, 17_000));
        }

        File.Copy(TestImage(), Path.Combine(input, "x.png"));
        File.Copy(TestImage(), Path.Combine(input, "x.PNG"));
        var output = Path.Combine(_root, "mixed-out");

        var failed = CliProcess.Run(_root, "predict", "--root", run, "--input", input, "--output", output);
        Assert.Equal(CliApp.RuntimeError, failed.Code);
        Assert.Contains("wide.png", failed.Error);
        Assert.False(Directory.Exists(output), "outputs were written before the oversize file was refused");

        var (code, _, error) = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            input,
            "--output",
            output,
            "--skip-bad-files"
        );
        Assert.True(code == CliApp.Ok, error);
        var rows = File.ReadAllLines(Path.Combine(output, "predictions.csv")).Skip(1).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Contains(rows, r => r.Contains("wide.png") && r.Contains("skipped: the image is 17000×2"));
        foreach (var name in new[] { "x.png", "x.PNG" })
        {
            Assert.True(File.Exists(Path.Combine(output, name + ".npy")), name);
            Assert.True(File.Exists(Path.Combine(output, name + "_heatmap.png")), name);
        }
    }

    [Fact]
    public void BadFoldersAndAbsurdSettingsAreUsageErrorsNamingTheProblemBeforeAnythingIsWritten()
    {
        var empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(Path.Combine(empty, "fabric", "train", "good"));
        Directory.CreateDirectory(Path.Combine(empty, "fabric", "test", "good"));
        var emptyTrain = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config(root: "empty"),
            "--run-dir",
            Path.Combine(_root, "never")
        );
        Assert.Equal(CliApp.UsageError, emptyTrain.Code);
        Assert.Contains(Path.Combine("fabric", "train", "good"), emptyTrain.Error);
        Assert.Contains("holds no images", emptyTrain.Error);

        var huge = CliProcess.Run(
            _root,
            "train",
            "--config",
            Config(imageSize: 100_000),
            "--run-dir",
            Path.Combine(_root, "huge")
        );
        Assert.Equal(CliApp.UsageError, huge.Code);
        Assert.Contains("MaxInputSide", huge.Error);
        Assert.Contains("tile positions", huge.Error);
        Assert.False(Directory.Exists(Path.Combine(_root, "huge")));
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));

        var workers = CliProcess.Run(_root, "train", "--config", Config(workers: -3));
        Assert.Equal(CliApp.UsageError, workers.Code);
        Assert.Contains("data.init_args.num_workers", workers.Error);

        var configFolder = CliProcess.Run(_root, "train", "--config", _root);
        Assert.Equal(CliApp.UsageError, configFolder.Code);
        Assert.Contains("is a folder", configFolder.Error);

        var rootFile = CliProcess.Run(
            _root,
            "predict",
            "--root",
            TestImage(),
            "--input",
            TestImage(),
            "--output",
            Path.Combine(_root, "o")
        );
        Assert.Equal(CliApp.UsageError, rootFile.Code);
        Assert.Contains("is a file", rootFile.Error);
    }

    [Fact]
    public void AnIncompleteRunTellsTheCommandThatResumesIt()
    {
        var config = Config();
        var run = Path.Combine(_root, "incomplete");
        using (var training = CliProcess.Start(_root, null, "train", "--config", config, "--run-dir", run, "--no-test"))
        {
            Assert.True(training.WaitUntil(() => Positions(run) >= 1, TimeSpan.FromMinutes(2)));
            training.Signal("KILL");
            training.Wait(TimeSpan.FromMinutes(1));
        }

        var (code, _, error) = CliProcess.Run(
            _root,
            "predict",
            "--root",
            run,
            "--input",
            TestImage(),
            "--output",
            Path.Combine(_root, "o2")
        );
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Contains($"tiled-ensemble train --config <its config> --run-dir {run}", error);
    }

    [Fact]
    public void SigtermEndsPredictWithinSecondsEvenInsideOneLargeImage()
    {
        // One 8000² image takes predict seconds in native code, with no point between images to stop at; with a grace
        // period of 0.5 s the process must still be gone within seconds of SIGTERM, exiting 128 + 15. The signal is
        // sent once the child holds over 1 GiB, i.e. inside the image (a 96² run never comes near), rather than after
        // a fixed sleep, which on a fast CPU lands after the image and then tests nothing.
        Assert.True(OperatingSystem.IsLinux(), "signals are a Linux test; CI runs Linux.");
        var run = TrainedRun();
        var input = Directory.CreateDirectory(Path.Combine(_root, "large")).FullName;
        using (var scope = NewDisposeScope())
        {
            ImageIO.WriteImage(Path.Combine(input, "large.png"), zeros(1, 8000, 8000));
        }

        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment[StopGrace.Variable] = "0.5";
        foreach (
            var argument in new[]
            {
                typeof(CliApp).Assembly.Location,
                "predict",
                "--root",
                run,
                "--input",
                input,
                "--output",
                Path.Combine(_root, "large-out"),
            }
        )
        {
            start.ArgumentList.Add(argument);
        }

        using var child = System.Diagnostics.Process.Start(start)!;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (!child.HasExited && ResidentBytes(child.Id) < 1L << 30 && waiting.Elapsed < TimeSpan.FromSeconds(60))
        {
            System.Threading.Thread.Sleep(20);
        }

        Assert.False(child.HasExited, "predict finished before it held 1 GiB; the test needs a larger image");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (var kill = System.Diagnostics.Process.Start("kill", new[] { "-TERM", child.Id.ToString() }))
        {
            kill.WaitForExit();
        }

        bool exited = child.WaitForExit(TimeSpan.FromSeconds(60));
        var stopped = watch.Elapsed;
        if (!exited)
        {
            child.Kill(entireProcessTree: true);
        }

        Assert.True(exited, "still running 60 s after SIGTERM");
        child.WaitForExit();
        Assert.Equal(CliApp.Terminated, child.ExitCode);
        Assert.True(stopped < TimeSpan.FromSeconds(4), $"took {stopped.TotalSeconds:F1} s to stop");
        // The watchdog ended it, not the image finishing within the grace period (which would leave it untested).
        Assert.Contains(errors, line => line.Contains("Did not stop within", StringComparison.Ordinal));
    }

    /// <summary>A process's resident memory (Linux /proc), 0 once it is gone.</summary>
    private static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status")
                .FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [SkippableFact]
    public void AFullDiskDuringPredictLeavesNoTruncatedFile()
    {
        Skip.IfNot(
            OperatingSystem.IsLinux() && Environment.UserName == "root",
            "mounting a small tmpfs needs root on Linux"
        );
        var run = TrainedRun();
        var small = Directory.CreateDirectory(Path.Combine(_root, "small")).FullName;
        using (var mount = System.Diagnostics.Process.Start("mount", $"-t tmpfs -o size=64k tmpfs {small}"))
        {
            mount.WaitForExit();
            Skip.If(
                mount.ExitCode != 0,
                $"mount -t tmpfs failed with {mount.ExitCode} (no permission in this environment)"
            );
        }

        try
        {
            var input = Directory.CreateDirectory(Path.Combine(_root, "many")).FullName;
            for (int i = 0; i < 12; i++)
            {
                File.Copy(TestImage(), Path.Combine(input, $"{i:D2}.png"));
            }

            var (code, _, error) = CliProcess.Run(_root, "predict", "--root", run, "--input", input, "--output", small);
            Assert.Equal(CliApp.RuntimeError, code);
            Assert.Contains("No space left", error, StringComparison.OrdinalIgnoreCase);

            // Every map that exists is whole (header and 96×96 floats); no temporary file is left.
            long whole = 128 + (96 * 96 * 4);
            Assert.All(Directory.GetFiles(small, "*.npy"), f => Assert.Equal(whole, new FileInfo(f).Length));
            Assert.Empty(Directory.GetFiles(small, "*.tmp"));
        }
        finally
        {
            using var unmount = System.Diagnostics.Process.Start("umount", small);
            unmount.WaitForExit();
        }
    }

    private string TrainedRun()
    {
        var run = Path.Combine(_root, "trained");
        if (!File.Exists(Path.Combine(run, RunStore.ManifestFile)))
        {
            var (code, _, error) = CliProcess.Run(
                _root,
                "train",
                "--config",
                Config(tile: 48, stride: 48),
                "--run-dir",
                run,
                "--no-test"
            );
            Assert.True(code == CliApp.Ok, error);
        }

        return run;
    }

    private string TestImage() => Path.Combine(_root, "data", "fabric", "test", "good", "000.png");

    private static int Positions(string run) =>
        Directory.Exists(Path.Combine(run, "positions"))
            ? Directory.GetFiles(Path.Combine(run, "positions"), "*.safetensors").Length
            : 0;

    private string Config(string root = "data", int imageSize = 96, int tile = 32, int stride = 16, int workers = 1) =>
        TestRunFiles.WritePadimConfig(
            Path.Combine(_root, $"config{Guid.NewGuid():N}.yaml"),
            imageSize,
            tile,
            stride,
            dataRoot: root,
            workers: workers
        );

    /// <summary>
    /// A PNG of a signature, an IHDR declaring <paramref name="width"/>×<paramref name="height"/>, one IDAT of an
    /// empty zlib stream and an IEND: under 100 bytes.
    /// </summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", new byte[] { 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 });
        Chunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    private static void Chunk(List<byte> png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.AddRange(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.AddRange(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.AddRange(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
