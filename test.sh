#!/usr/bin/env bash
# The test command: builds the solution (restoring packages), runs every test project, then the consumer test, which
# installs the packed libraries into a fresh app as a user would, then the benchmarks in their quick mode.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test TiledEnsemble.sln -c Release "$@"
tests/consumer/run.sh
# Every benchmark in its quick mode, to prove it still runs (no thresholds are asserted; figures live in docs/benchmarks.md).
dotnet run -c Release --project benchmarks/TiledEnsemble.Benchmarks -- --quick
