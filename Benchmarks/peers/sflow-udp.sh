#!/usr/bin/env bash
# UDP ingest: tusk sflow send at 200,000 datagrams/s for 10 s into tusk sflow stats --listen on
# loopback. Reports datagrams sent and received, loss, and the collector's memory over the run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUSK=${TUSK:-$ROOT/.build/release/tusk}
RATE=${RATE:-200000}
SECONDS_=${SECONDS_:-10}
PORT=${PORT:-16343}
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$TUSK" sflow generate --out "$work/u.pcap" --datagrams 20000 --agents 4 --rate "$RATE" 2>/dev/null
loops=$(( RATE * SECONDS_ / 20000 ))
"$TUSK" sflow stats --listen 127.0.0.1:$PORT --duration $((SECONDS_ + 6)) --format json > "$work/stats.json" 2> "$work/stats.err" &
pid=$!
sleep 1
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
r0=$(rss)
( sleep 2; rss > "$work/rss2"; sleep $((SECONDS_ - 3)); rss > "$work/rss9" ) &
"$TUSK" sflow send --pcap "$work/u.pcap" --to 127.0.0.1:$PORT --rate "$RATE" --loop "$loops" 2> "$work/send.err"
r1=$(rss)
wait "$pid" || true
pid=""
cat "$work/send.err"
python3 - "$work/stats.json" "$((loops * 20000))" "$r0" "$(cat "$work/rss2")" "$(cat "$work/rss9")" "$r1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sent = int(sys.argv[2]); t = s["totals"]
print(f"sent {sent}, received {t['datagrams']}, lost by sequence {t['lostDatagrams']}, malformed {t['malformed']}")
print(f"collector RSS (KiB): start {sys.argv[3]}, +2 s {sys.argv[4]}, +9 s {sys.argv[5]}, end {sys.argv[6]}")
ok = t["datagrams"] == sent and t["lostDatagrams"] == 0
print("udp ingest:", "zero loss" if ok else f"LOSS {sent - t['datagrams']}")
PY
grep -h "received" "$work/stats.err" || true
