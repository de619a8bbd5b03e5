#!/usr/bin/env bash
# The HTTP API under load (release build): `GET /activeflows` latency with 100,000 flows tracked, and
# whether 1,000 API requests a second delay the control rounds.
#
# A dry-run `tusk controller` (no switches) is fed a synthetic sFlow capture of 100,000 flows over UDP
# (`tusk sflow send`, looped so the flows stay live). Then:
#   1. wrk, one connection: latency percentiles of /activeflows/ALL/elephants/json?maxFlows=20 (and
#      maxFlows=1000);
#   2. the control rounds' duration (the daemon's own histogram on /metrics) and late rounds (its
#      log) over 30 s without API load, then over 30 s with about 1,000 requests a second (wrk, 130
#      connections, each pausing 100 ms between requests) over a mix of the read endpoints.
# Usage: TUSK=.build/release/tusk bash Benchmarks/peers/api.sh   (needs wrk, curl, python3)
set -euo pipefail
TUSK_BIN=${TUSK_BIN:-${TUSK:?set TUSK (or TUSK_BIN) to a release tusk binary}}
FLOWS=${FLOWS:-100000}
dir=$(mktemp -d /tmp/tusk-api-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
free_port() { python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=='udp' else socket.SOCK_STREAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"; }
of=$(free_port tcp); sf=$(free_port udp); hp=$(free_port tcp)
base=http://127.0.0.1:$hp

"$TUSK_BIN" sflow generate --out "$dir/flows.pcap" --flows "$FLOWS" --datagrams $((FLOWS / 2)) --samples-per-datagram 7 --agents 4
# Idle timeout well above one pass of the capture, so every flow stays tracked.
printf 'elephant: {threshold: 1%%}\nselector: {control-interval: 1s}\n' >"$dir/policy.yaml"
"$TUSK_BIN" controller --topology "$(dirname "$0")/../../topologies/fat-tree-k4.yaml" --dry-run --policy "$dir/policy.yaml" \
  --listen "127.0.0.1:$of" --sflow "127.0.0.1:$sf" --http "127.0.0.1:$hp" >"$dir/tusk.out" 2>"$dir/tusk.err" &
tusk=$!; pids+=("$tusk")
for _ in $(seq 100); do curl -s -o /dev/null "$base/version" && break; sleep 0.1; done
"$TUSK_BIN" sflow send --pcap "$dir/flows.pcap" --to "127.0.0.1:$sf" --rate 20000 --loop 1000 >/dev/null 2>&1 &
pids+=("$!")
tracked() { curl -s "$base/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flowsTracked"])'; }
for _ in $(seq 120); do (($(tracked) >= FLOWS * 95 / 100)) && break; sleep 1; done
echo "flows tracked: $(tracked)"

for n in 20 1000; do
  echo "--- GET /activeflows/ALL/elephants/json?maxFlows=$n, 1 connection, 15 s"
  wrk -t1 -c1 -d15s --latency "$base/activeflows/ALL/elephants/json?maxFlows=$n" | grep -E 'Latency|50%|75%|90%|99%|Requests/sec'
done

rounds() {  # count sum(seconds) from the round-duration histogram, and late rounds so far
  curl -s "$base/metrics" | awk '/^tusk_control_round_duration_count/ {c=$2} /^tusk_control_round_duration_sum/ {s=$2} END {print c, s}'
  grep -c 'control round late' "$dir/tusk.err" || true
}
buckets() { curl -s "$base/metrics" | grep '^tusk_control_round_duration_bucket'; }
window() {  # LABEL: rounds, mean round ms, late rounds over the last 30 s
  local a b
  a=$(rounds | tr '\n' ' '); sleep 30; b=$(rounds | tr '\n' ' ')
  python3 -c "
a, b = '$a'.split(), '$b'.split()
n = float(b[0]) - float(a[0]); s = float(b[1]) - float(a[1]); late = int(b[2]) - int(a[2])
print(f'$1: {int(n)} rounds, mean {1000 * s / max(n, 1):.2f} ms, late rounds {late}')"
}
sleep 12   # the flows published for the requests above stop 10 s after the last one
window "no API load"
cat >"$dir/mix.lua" <<'EOF'
local paths = {"/version", "/links/json", "/elephants/json", "/activeflows/ALL/elephants/json?maxFlows=20",
               "/decisions/json", "/events/json", "/topology/json", "/agents/json", "/metric/ALL/max:ifinutilization/json"}
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end
delay = function() return 100 end
EOF
wrk -t2 -c130 -d32s -s "$dir/mix.lua" "$base" >"$dir/wrk.txt" &
wp=$!
sleep 1
window "~1,000 API requests/s"
wait "$wp" || true
grep -E 'Requests/sec|Latency' "$dir/wrk.txt"
kill -TERM "$tusk"; wait "$tusk" 2>/dev/null || true
grep 'elephant loop stopped' "$dir/tusk.err" | sed 's/.*elephant loop stopped/summary:/' | tr ' ' '\n' | grep -E 'roundMs|lateRounds|rounds=' | tr '\n' ' ' || true; echo
