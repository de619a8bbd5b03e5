#!/usr/bin/env bash
# Loss-free sFlow ingest over UDP on loopback, Tusk against sfacctd (pmacct) on the same replay.
#
# `tusk sflow send` replays a capture at RATE datagrams/s for SECONDS_ s into each receiver in turn:
#   stats    `tusk sflow stats --listen`: every datagram decoded in full and counted, per agent;
#   flows    `tusk flows --listen`: the analytics the daemon runs (flow samples scanned on the socket
#            threads, applied to the flow table with prefetching);
#   sfacctd  pmacct's collector, print plugin aggregating 5-tuples (its usual job);
# RUNS times each, then a ladder of rates (LADDER) once each, for the highest loss-free rate.
# Reported per run: datagrams sent, kernel drops for the collector's port (/proc/net/udp), and for
# Tusk the datagrams it took off the socket and those it then dropped at the bounded hand-off to its
# decoder (stats) or analytics (flows) thread ("behind"). net.core.rmem_max is raised to the 16 MiB every receiver asks for
# during the run (and restored), so sfacctd gets the buffer that Tusk takes with SO_RCVBUFFORCE.
#
# Usage (root): TUSK=.build/release/tusk [CAPTURE=file.pcap] [RATE=200000] [RUNS=3] [SECONDS_=10]
#               [RECEIVERS="stats flows sfacctd"] [SOCKETS=2] [LADDER="250000 300000"] bash Benchmarks/peers/sflow-ingest.sh
# Without CAPTURE, a synthetic capture is generated: 20,000 datagrams of 7 flow samples (128-byte
# headers) and interface counters from 4 agents, over 100,000 flows.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUSK=${TUSK:-$ROOT/.build/release/tusk}
RATE=${RATE:-200000}
RUNS=${RUNS:-3}
SECONDS_=${SECONDS_:-10}
RECEIVERS=${RECEIVERS:-stats flows sfacctd}
LADDER=${LADDER:-}
SOCKETS=${SOCKETS:-}
work=$(mktemp -d /tmp/tusk-ingest-bench.XXXXXX)
pid=""
old_rmem=$(sysctl -n net.core.rmem_max)
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  sysctl -qw net.core.rmem_max="$old_rmem" || true
  rm -rf "$work"
}
trap cleanup EXIT
sysctl -qw net.core.rmem_max=$((16 << 20))

capture=${CAPTURE:-}
if [[ -z $capture ]]; then
  capture=$work/synthetic.pcap
  "$TUSK" sflow generate --out "$capture" --datagrams 20000 --flows 100000 --agents 4 --samples-per-datagram 7 2>/dev/null
fi
per_pass=$("$TUSK" sflow stats --pcap "$capture" --port 0 --format json | python3 -c '
import json, sys
t = json.load(sys.stdin)["totals"]
print(t["datagrams"], t["flowSamples"], t["counterSamples"])')
read -r dgrams flows counters <<<"$per_pass"
echo "capture: $capture: $dgrams datagrams, $flows flow samples, $counters counter samples a pass"

free_port() { python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
drops_of() { # kernel drops of every UDP socket bound to port $1
  python3 - "$1" <<'PY'
import sys
port = "%04X" % int(sys.argv[1]); total = 0
for f in ("/proc/net/udp", "/proc/net/udp6"):
    for line in open(f).read().splitlines()[1:]:
        c = line.split()
        if c[1].endswith(":" + port): total += int(c[-1])
print(total)
PY
}

# One run: prints "sent received drops" (received: what the collector counted; sfacctd: sent - drops).
one_run() { # receiver rate
  local rx=$1 rate=$2 port loops sent received drops behind=0
  port=$(free_port)
  loops=$(( (rate * SECONDS_ + dgrams - 1) / dgrams ))
  sent=$((loops * dgrams))
  local sock=()
  [[ -n $SOCKETS ]] && sock=(--receive-sockets "$SOCKETS")
  case $rx in
    stats) "$TUSK" sflow stats --listen "127.0.0.1:$port" --duration $((SECONDS_ * 4 + 5)) --format json "${sock[@]}" >"$work/out" 2>"$work/err" & pid=$! ;;
    flows) "$TUSK" flows --listen "127.0.0.1:$port" --duration $((SECONDS_ * 4 + 5)) --format json "${sock[@]}" >"$work/out" 2>"$work/err" & pid=$! ;;
    sfacctd)
      cat >"$work/sfacctd.conf" <<CONF
daemonize: false
sfacctd_ip: 127.0.0.1
sfacctd_port: $port
sfacctd_pipe_size: $((16 << 20))
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $work/sfacctd-out.csv
print_refresh_time: 3600
plugin_pipe_size: 67108864
plugin_buffer_size: 65536
logfile: $work/sfacctd.log
CONF
      sfacctd -f "$work/sfacctd.conf" >/dev/null 2>&1 & pid=$! ;;
  esac
  sleep 1
  "$TUSK" sflow send --pcap "$capture" --port 0 --to "127.0.0.1:$port" --rate "$rate" --loop "$loops" 2>"$work/send.err" >/dev/null
  sleep 1
  drops=$(drops_of "$port")
  if [[ $rx == sfacctd ]]; then
    # sfacctd's processes do not always stop on SIGTERM: stop them for good.
    kill "$pid" 2>/dev/null || true
    sleep 1
    pkill -9 -f '^sfacctd: ' 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    received=$((sent - drops))
  else
    kill -INT "$pid" 2>/dev/null || true   # the collector prints its counts when it stops
    wait "$pid" || true
    received=$(grep -o 'received [0-9]*' "$work/err" | awk '{print $2}')
    # Taken off the socket but dropped at the hand-off to the decoder or the analytics.
    behind=$(grep -o '[0-9]* dropped behind' "$work/err" | awk '{print $1}')
  fi
  pid=""
  local achieved
  achieved=$(grep -o '[0-9]* per second' "$work/send.err" | awk '{print $1}')
  echo "$sent $received $drops $achieved ${behind:-0}"
}

printf '%-8s %9s %5s %10s %10s %10s %9s %8s  %s\n' receiver rate run sent received "kernel drops" "drop %" behind "sender reached/s"
for rx in $RECEIVERS; do
  if [[ $rx == sfacctd ]] && ! command -v sfacctd >/dev/null; then echo "sfacctd: not installed (apt-get install pmacct)"; continue; fi
  for i in $(seq "$RUNS"); do
    read -r sent received drops achieved behind <<<"$(one_run "$rx" "$RATE")"
    printf '%-8s %9d %5d %10d %10d %10d %8.3f%% %8d  %s\n' "$rx" "$RATE" "$i" "$sent" "$received" "$drops" \
      "$(python3 -c "print(100*$drops/$sent)")" "$behind" "$achieved"
  done
  for r in $LADDER; do
    read -r sent received drops achieved behind <<<"$(one_run "$rx" "$r")"
    printf '%-8s %9d %5s %10d %10d %10d %8.3f%% %8d  %s\n' "$rx" "$r" ladder "$sent" "$received" "$drops" \
      "$(python3 -c "print(100*$drops/$sent)")" "$behind" "$achieved"
  done
done
