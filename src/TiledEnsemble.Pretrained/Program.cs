// Converts the ONNX graph of Microsoft.ML.DnnImageFeaturizer.ResNet18 into the library's safetensors (run by this
// project's build): <package folder> <package version> <output file>.
using System;
using System.IO;
using TiledEnsemble.Models.Pretrained;

if (args.Length != 3)
{
    Console.Error.WriteLine(
        "usage: TiledEnsemble.Pretrained <Microsoft.ML.DnnImageFeaturizer.ResNet18 package folder> <its version> "
            + "<output .safetensors>"
    );
    return 2;
}

var model = Path.Combine(args[0], CntkResNet18.ModelPath);
var preprocess = Path.Combine(args[0], CntkResNet18.PreprocessPath);
foreach (var file in new[] { model, preprocess })
{
    if (!File.Exists(file))
    {
        Console.Error.WriteLine($"'{file}' does not exist: restore {CntkResNet18.PackageId} {args[1]} first.");
        return 1;
    }
}

var converted = CntkResNet18.Convert(model, preprocess, args[1]);
converted.Save(args[2]);
Console.WriteLine(
    $"TiledEnsemble.Pretrained: {converted.Tensors.Count} tensors from {CntkResNet18.PackageId} {args[1]} written to "
        + $"{args[2]}"
);
return 0;
