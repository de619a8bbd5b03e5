#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time (seconds: $1, default 60).
# Seeds: Fuzz/corpus-seed (committed); new finds go to Fuzz/corpus-work (ignored).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
swift build -c release --sanitize=fuzzer --sanitize=address --product FuzzSFlow
mkdir -p corpus-work
bin=$(swift build -c release --sanitize=fuzzer --sanitize=address --show-bin-path)/FuzzSFlow
"$bin" corpus-work corpus-seed -max_total_time="$secs" -max_len=4096 -print_final_stats=1
