#!/usr/bin/env bash
# Builds the benchmarks in release mode and runs them, then the side-by-side peer comparisons.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product TuskBench
swift build -c release --product tusk
.build/release/TuskBench "$@"
for s in Benchmarks/peers/*.sh; do
  [[ -e $s ]] || continue
  echo "== $(basename "$s" .sh)"
  TUSK=$PWD/.build/release/tusk bash "$s"
done
