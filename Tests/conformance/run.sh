#!/usr/bin/env bash
# Runs every conformance check against ../shared/conformance. Usage: run.sh TUSK_BIN CONFORMANCE_DIR
set -uo pipefail
cd "$(dirname "$0")"
bin=$(realpath "../../$1" 2>/dev/null || realpath "$1")
dir=$(realpath "$2")
pass=0; fail=0
for s in check-*.sh; do
  [[ -e $s ]] || continue
  if bash "$s" "$bin" "$dir"; then pass=$((pass+1)); echo "ok: $s"; else fail=$((fail+1)); echo "FAILED: $s"; fi
done
echo "conformance: $pass passed, $fail failed"
((fail == 0))
