#!/usr/bin/env bash
# Runs every real-switch test (Open vSwitch + network namespaces; needs root). Usage: run.sh TUSK_BIN
set -uo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")"
export TUSK_BIN=$bin
pass=0; fail=0
for t in test-*.sh; do
  [[ -e $t ]] || continue
  echo "--- $t"
  if bash "$t"; then pass=$((pass+1)); echo "ok: $t"; else fail=$((fail+1)); echo "FAILED: $t"; fi
done
echo "e2e: $pass passed, $fail failed"
((fail == 0))
