#!/usr/bin/env bash
# The test command: builds the solution (restoring packages) and runs every test project.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test TiledEnsemble.sln -c Release "$@"
