#!/usr/bin/env bash
# `make run`: the default comparison. A k=4 fat-tree, all of Hedera's traffic patterns as long-lived
# flows, every scheduler Tusk has, several seeds; prints the throughput table and where the HTML
# report is. Usage: scripts/run-default.sh [path/to/tusk]   (REPORT_DIR overrides out/simulation)
set -euo pipefail
cd "$(dirname "$0")/.."
TUSK=${1:-.build/release/tusk}
REPORT_DIR=${REPORT_DIR:-out/simulation}
SEEDS=${SEEDS:-5}

start=$(date +%s%N)
"$TUSK" simulate --topology fat-tree:4 --workload hedera --scheduler all \
  --seeds "$SEEDS" --duration 60 --report "$REPORT_DIR"
end=$(date +%s%N)
echo "wall time: $(( (end - start) / 1000000 )) ms"
# (tusk prints where the report is)
