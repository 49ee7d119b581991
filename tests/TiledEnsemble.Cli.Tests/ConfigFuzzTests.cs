using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TiledEnsemble.Cli.Config;
using TiledEnsemble.Testing;
using Xunit;
using Xunit.Abstractions;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// Seeded mutations of a full training config through the real YAML reader and validation: every one either loads or
/// is refused with a <see cref="ConfigException"/> (exit 2 with a message); no other exception escapes. Time-bounded.
/// </summary>
public sealed class ConfigFuzzTests : IDisposable
{
    private const string Valid = """
        seed: 1
        default_root_dir: results
        max_image_side: 4096
        tiling:
          image_size: [64, 96]
          tile_size: 32
          stride: 16
        normalization_stage: image
        calibration: per_position
        thresholding:
          method: FalseRejectRateThreshold
          false_reject_rate: 0.02
          stage: image
        SeamSmoothing:
          apply: true
          sigma: 2
          width: 0.1
        data:
          class_path: anomalib.data.MVTecAD
          init_args:
            root: data
            category: fabric
            train_batch_size: 4
            eval_batch_size: 4
            num_workers: 1
            val_split_mode: from_train
            val_split_ratio: 0.25
        TrainModels:
          model:
            class_path: Patchcore
            init_args:
              backbone: resnet18
              layers: [layer1, layer2]
              coreset_sampling_ratio: 0.1
              num_neighbors: 9
          trainer:
            max_epochs: 3
        """;

    private readonly ITestOutputHelper _output;
    private readonly string _root = Directory.CreateTempSubdirectory("config-fuzz-").FullName;

    public ConfigFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void MutatedConfigsLoadOrAreRefusedWithAConfigError()
    {
        var path = Path.Combine(_root, "config.yaml");
        File.WriteAllText(path, Valid);
        _ = RunConfig.Load(path);

        var mutator = new Mutator(41);
        var unexpected = new List<string>();
        var watch = Stopwatch.StartNew();
        int done = 0,
            refused = 0;
        for (; done < 3000 && watch.Elapsed < TimeSpan.FromSeconds(25); done++)
        {
            File.WriteAllText(path, mutator.Mutate(Valid));
            try
            {
                _ = RunConfig.Load(path);
            }
            catch (ConfigException)
            {
                refused++;
            }
            catch (Exception exception)
            {
                unexpected.Add($"#{done}: {exception.GetType().Name}: {exception.Message}\n{exception.StackTrace}");
            }
        }

        _output.WriteLine($"yaml: {done} mutations in {watch.Elapsed.TotalSeconds:F1} s, {refused} refused cleanly");
        Assert.True(
            unexpected.Count == 0,
            $"{unexpected.Count} unexpected exceptions; first:\n{unexpected.FirstOrDefault()}"
        );
    }
}
