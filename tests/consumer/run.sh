#!/usr/bin/env bash
# Consumer test: packs the libraries into a local feed, creates a fresh console app outside the repository, adds the
# packages as a user would (`dotnet add package`), compiles the example of docs/getting-started.md into it, runs it and
# checks its output. Proves the packages (and their Linux native-compat target) work outside the repo.
set -Eeuo pipefail
# A failing step names itself (several steps hide their output while they work), with the disk space left: the
# packages, the installed tool and the published apps take a few GB.
trap 'echo "consumer: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2; df -h "${TMPDIR:-/tmp}" . >&2' ERR
# Runs a command whose output is noise when it works, and prints that output when it fails.
quietly() {
  local log status=0
  log=$(mktemp)
  "$@" > "$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then cat "$log"; fi
  rm -f "$log"
  return "$status"
}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)

echo "consumer: packing $version into $feed"
# The same script users run to get the packages before they are published.
"$repo/build/pack-local-feed.sh" "$feed"
ls "$feed"
for expected in TiledEnsemble TiledEnsemble.Core TiledEnsemble.Models TiledEnsemble.Data TiledEnsemble.OnnxRuntime; do
  test -f "$feed/$expected.$version.nupkg" || { echo "consumer: missing $expected.$version.nupkg"; exit 1; }
  test -f "$feed/$expected.$version.snupkg" || { echo "consumer: missing symbols $expected.$version.snupkg"; exit 1; }
done
# Listings are captured first: with pipefail, `unzip | grep -q` fails when grep stops reading early (SIGPIPE).
core_listing=$(unzip -l "$feed/TiledEnsemble.Core.$version.nupkg")
grep -q "buildTransitive/TiledEnsemble.Core.targets" <<< "$core_listing" || { echo "consumer: Core package lacks buildTransitive/TiledEnsemble.Core.targets"; exit 1; }
# The weights package: the converted weights with their attribution and the props that copy them, and no dependency.
pretrained="$feed/TiledEnsemble.Pretrained.$version.nupkg"
pretrained_listing=$(unzip -l "$pretrained")
for entry in weights/resnet18-imagenet-cntk.safetensors weights/NOTICE.md build/TiledEnsemble.Pretrained.props buildTransitive/TiledEnsemble.Pretrained.props; do
  grep -q "$entry" <<< "$pretrained_listing" || { echo "consumer: TiledEnsemble.Pretrained lacks $entry"; exit 1; }
done
pretrained_nuspec=$(unzip -p "$pretrained" TiledEnsemble.Pretrained.nuspec)
if grep -q "<dependency" <<< "$pretrained_nuspec"; then echo "consumer: TiledEnsemble.Pretrained must not depend on anything"; exit 1; fi

# The version does not change between commits, so a package cached by an earlier run would be restored instead of the
# one just packed: drop our packages (only ours) from the global cache first.
cache=$(dotnet nuget locals global-packages --list | sed 's/^[^:]*: *//')
rm -rf "$cache"/tiledensemble "$cache"/tiledensemble.core "$cache"/tiledensemble.models "$cache"/tiledensemble.data "$cache"/tiledensemble.cli "$cache"/tiledensemble.pretrained "$cache"/tiledensemble.onnxruntime

app="$work/app"
mkdir -p "$app"
cd "$app"
cat > nuget.config <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
CONFIG
quietly dotnet new console --framework net10.0 -n Consumer -o . --force
quietly dotnet add package TiledEnsemble --version "$version"
quietly dotnet add package TiledEnsemble.Pretrained --version "$version"
# For the examples of docs/deploy.md.
quietly dotnet add package TiledEnsemble.OnnxRuntime --version "$version"
quietly dotnet add package TorchSharp-cpu --version 0.107.0
quietly dotnet add package Microsoft.Extensions.Logging.Console --version 8.0.1
# The example of docs/getting-started.md, between its consumer-test markers, without the ``` fences.
sed -n '/<!-- consumer-test:begin -->/,/<!-- consumer-test:end -->/p' "$repo/docs/getting-started.md" | grep -v -e '^<!--' -e '^```' > Program.cs
# Every ```csharp example of the README and docs/, compiled (not run) as methods of one class.
awk -f "$repo/tests/consumer/doc-snippets.awk" "$repo/README.md" "$repo"/docs/*.md > DocSnippets.cs
echo "consumer: compiling $(grep -c 'Task Snippet' DocSnippets.cs) documentation examples"
dotnet build -c Release --nologo -v quiet
output=$(dotnet run -c Release --no-build 2>&1) || { echo "$output"; exit 1; }
echo "$output"
grep -q "getting-started: ok" <<< "$output" || { echo "consumer: the example did not finish"; exit 1; }
test -f bin/Release/net10.0/TiledEnsemble.Pretrained/resnet18-imagenet-cntk.safetensors || { echo "consumer: the pretrained weights were not copied next to the app"; exit 1; }
# The command line as a .NET tool, installed the way users install tools.
quietly dotnet tool install TiledEnsemble.Cli --version "$version" --tool-path "$work/tools" --add-source "$feed"
tool_help=$("$work/tools/tiled-ensemble" --help 2>&1) || { echo "$tool_help"; exit 1; }
grep -q "demo" <<< "$tool_help" || { echo "consumer: the installed tool does not list its commands"; exit 1; }
# Without a runtime package, Build() says which packages to add (instead of TorchSharp's own failure).
bare="$work/bare"
mkdir -p "$bare"
cp nuget.config "$bare/"
cd "$bare"
quietly dotnet new console --framework net10.0 -n Bare -o . --force
quietly dotnet add package TiledEnsemble --version "$version"
cat > Program.cs <<'PROGRAM'
try
{
    TiledEnsemble.TiledEnsembleBuilder.Create().WithPretrainedBackbone(false).Build();
    System.Console.WriteLine("bare: built without a runtime");
}
catch (System.InvalidOperationException exception)
{
    System.Console.WriteLine(exception.Message);
}
PROGRAM
bare_output=$(dotnet run -c Release 2>&1 || true)
grep -q "TorchSharp-cpu (CPU), TorchSharp-cuda-linux (CUDA on Linux) or TorchSharp-cuda-windows" <<< "$bare_output" || { echo "consumer: without a runtime package Build() did not name the packages: $bare_output"; exit 1; }

# Deployment: a run trained and exported with the installed tool, predicted by an app that references only
# TiledEnsemble.OnnxRuntime — no TorchSharp, no libtorch in its output.
deploy="$work/deploy"
mkdir -p "$deploy/data"
cd "$deploy"
cp "$app/nuget.config" .
quietly "$work/tools/tiled-ensemble" demo --output "$deploy/demo" --image-size 64
quietly "$work/tools/tiled-ensemble" export --root "$deploy/demo/tiled" --output "$deploy/export"
quietly dotnet new console --framework net10.0 -n Deployed -o app --force
cd app
quietly dotnet add package TiledEnsemble.OnnxRuntime --version "$version"
cat > Program.cs <<'PROGRAM'
using TiledEnsemble.Deployment;

using var ensemble = DeployedEnsemble.Load(args[0]);
var prediction = ensemble.Predict(args[1]);
System.Console.WriteLine($"deployed: {ensemble.ModelName} on {ensemble.Tiling}; score {prediction.Score:F3}, label {prediction.Label}, {prediction.Boxes.Count} box(es)");
PROGRAM
deployed_output=$(dotnet run -c Release -- "$deploy/export" "$deploy/demo/data/fabric/test/spot/000.png" 2>&1) \
  || { echo "$deployed_output"; exit 1; }
echo "$deployed_output"
grep -q "deployed: Padim" <<< "$deployed_output" || { echo "consumer: the deployed app did not predict"; exit 1; }
if find bin -iname "*torch*" | grep -q .; then echo "consumer: the deployed app carries TorchSharp or libtorch"; exit 1; fi
# What each app weighs when published for one platform (framework-dependent, linux-x64): docs/deploy.md quotes it.
quietly dotnet publish -c Release -r linux-x64 --self-contained false -o "$deploy/published" --nologo -v quiet
# The same on TorchSharp: the bare app above with the CPU runtime package added.
(cd "$bare" && quietly dotnet add package TorchSharp-cpu --version 0.107.0 \
  && quietly dotnet publish -c Release -r linux-x64 --self-contained false -o "$work/published" --nologo -v quiet)
echo "consumer: published for linux-x64: TiledEnsemble.OnnxRuntime app $(du -sm "$deploy/published" | cut -f1) MiB," \
  "TiledEnsemble + TorchSharp-cpu app $(du -sm "$work/published" | cut -f1) MiB"
echo "consumer: passed"
