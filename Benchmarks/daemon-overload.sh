#!/usr/bin/env bash
# The daemon under sFlow load: `tusk controller` (leaf-spine topology, no switches needed) receives
# RATE datagrams/s (default 200,000) of a synthetic capture with FLOWS (default 100,000) distinct flows
# for DURATION seconds (default 10) from `tusk sflow send` on loopback. Reports what was sent, what the daemon
# received, the kernel's drops for its socket, its RSS every second, and its control rounds (count,
# late rounds, median/p99/max round time) from its closing log line, and the CPU time the daemon and
# the sender each used over the send (the machine's cores are what both share).
# Usage: Benchmarks/daemon-overload.sh [TUSK_BIN]   (release build; RATE, FLOWS, SECONDS override)
set -euo pipefail
cd "$(dirname "$0")/.."
TUSK=${1:-.build/release/tusk}
RATE=${RATE:-200000}
FLOWS=${FLOWS:-100000}
SECONDS_RUN=${DURATION:-10}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cap=$work/load.pcap
"$TUSK" sflow generate --out "$cap" --datagrams "$RATE" --flows "$FLOWS" --rate "$RATE" --agents 4 >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ofport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TUSK" controller --topology topologies/leaf-spine-2x2.yaml --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$port" \
  --http off --log-level notice 2>"$work/tusk.err" &
pid=$!
sleep 1
kill -0 $pid 2>/dev/null || { echo "tusk controller did not start:"; cat "$work/tusk.err"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "rss before: $(rss) kB"
( for i in $(seq $((SECONDS_RUN + 2))); do sleep 1; echo "rss t+$i s: $(rss) kB"; done ) &
mon=$!
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
c0=$(cpu)
/usr/bin/time -f "sender CPU: %U s user + %S s system over %e s" \
  "$TUSK" sflow send --pcap "$cap" --to "127.0.0.1:$port" --rate "$RATE" --loop "$SECONDS_RUN" 2>&1 | tail -3
c1=$(cpu)
echo "daemon CPU over the send: $(( (c1 - c0) / hz )).$(( ((c1 - c0) % hz) * 100 / hz )) s on $(nproc) cores"
wait $mon || true
echo "rss after: $(rss) kB"
kill -TERM $pid
wait $pid || true
grep -E "elephant loop stopped|control round late" "$work/tusk.err" | tail -5
echo "late-round warnings: $(grep -c 'control round late' "$work/tusk.err" || true)"
