#!/usr/bin/env bash
# Runs every conformance check against ../shared/conformance. Usage: run.sh TUSK_BIN CONFORMANCE_DIR
# (paths relative to the directory it is called from).
set -uo pipefail
bin=$(realpath "$1")
dir=$(realpath "$2") || { echo "conformance: no directory $2" >&2; exit 1; }
cd "$(dirname "$0")"
pass=0; fail=0
for s in check-*.sh; do
  [[ -e $s ]] || continue
  if bash "$s" "$bin" "$dir"; then pass=$((pass+1)); echo "ok: $s"; else fail=$((fail+1)); echo "FAILED: $s"; fi
done
echo "conformance: $pass passed, $fail failed"
((fail == 0))
