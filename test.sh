#!/usr/bin/env bash
# The test command: builds the solution (restoring packages), runs every test project, then the consumer test, which
# installs the packed libraries into a fresh app as a user would.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test TiledEnsemble.sln -c Release "$@"
tests/consumer/run.sh
