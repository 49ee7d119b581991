#!/usr/bin/env bash
# Packs every TiledEnsemble package (and the tiled-ensemble tool) into a local NuGet feed folder, until the packages
# are published. Usage: build/pack-local-feed.sh [FEED_FOLDER]   (default: artifacts/feed)
# Then, in your application: dotnet nuget add source <FEED_FOLDER> --name tiledensemble-local
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
feed=$(mkdir -p "${1:-$repo/artifacts/feed}" && cd "${1:-$repo/artifacts/feed}" && pwd)
for project in TiledEnsemble.Core TiledEnsemble.Models TiledEnsemble.Data TiledEnsemble TiledEnsemble.Pretrained TiledEnsemble.OnnxRuntime; do
  dotnet pack "$repo/src/$project/$project.csproj" -c Release -o "$feed" --nologo -v quiet
done
dotnet pack "$repo/samples/TiledEnsemble.Cli/TiledEnsemble.Cli.csproj" -c Release -o "$feed" --nologo -v quiet
echo "Packages are in $feed. Add the feed to your application with:"
echo "  dotnet nuget add source \"$feed\" --name tiledensemble-local"
