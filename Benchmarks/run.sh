#!/usr/bin/env bash
# Builds the benchmarks in release mode and runs them, then the side-by-side peer comparisons.
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product TuskBench
.build/release/TuskBench "$@"
for s in peers/*.sh; do
  [[ -e $s ]] || continue
  echo "== $(basename "$s" .sh)"
  bash "$s"
done
