#!/usr/bin/env bash
# Soak with churn: `tusk controller` on the leaf-spine lab for SOAK_MINUTES (default 60) while
# thousands of short TCP flows and iperf3 elephants come and go. Every POLL seconds (default 15) it
# reads, from the process and the switches (not from Tusk's log):
#   - the controller's RSS (VmRSS) and open file descriptors (/proc/PID/fd);
#   - the elephant entries (cookie 0x5453...) on every bridge (ovs-ofctl dump-flows).
# Promise and checks:
#   - RSS flat: the least-squares slope over the second half of the run is reported and must stay
#     under MAX_SLOPE_KB_MIN (default 100 kB/min: a leak of 200 bytes per short flow would show as
#     several hundred);
#   - elephant entries never above the policy's budget (BUDGET, default 2) on any bridge at any poll;
#   - no file descriptor growth: the last poll holds no more than the first poll after warm-up + 4;
#   - the controller runs to the end, and it placed elephants (decisions in its log).
# Not part of `make e2e` (its length); run by `make soak`. Figures go to docs/reliability.md.
#
# Usage (root): TUSK_BIN=.build/release/tusk [SOAK_MINUTES=60] [LAB_RATE=10mbit] bash Tests/e2e/soak.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make soak does)}"
LAB_PREFIX=${LAB_PREFIX:-tksk-}
LAB_STATIC_ARP=0
# Slow fabric links keep the userspace datapath's CPU within this machine's two cores.
LAB_RATE=${LAB_RATE:-10mbit}
MINUTES=${SOAK_MINUTES:-60}
POLL=${POLL:-15}
BUDGET=${BUDGET:-2}
MAX_SLOPE=${MAX_SLOPE_KB_MIN:-100}
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"

lab_require iperf3 python3
lab_init
lab_leaf_spine
# The topology's stated capacities follow the lab's shaping, so that utilization and the elephant
# threshold (a share of link speed) mean what they do on a real fabric.
rate_m=${LAB_RATE%mbit}
topo=$LAB_DIR/leaf-spine.yaml
sed "s/capacity: 100M/capacity: ${rate_m}M/g" "$repo/topologies/leaf-spine-2x2.yaml" >"$topo"
for h in h1 h2 h3 h4; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done
ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
policy=$LAB_DIR/policy.yaml
cat >"$policy" <<POLICY
# soak: leaf-spine, ${LAB_RATE} fabric links, 1-in-100 sampling, a small elephant-entry budget
sflow: {sampling-rate: 100, polling-interval: 2s}
elephant: {threshold: 10%}
selector: {algorithm: tusk, control-interval: 1s}
flow-table: {idle-timeout: 5s, budget: $BUDGET}
POLICY
ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" --echo-interval 2 \
  --decisions "$LAB_DIR/decisions.jsonl" --http off || fail "controller did not start"
ctl_connect "$ofport"
ctl_wait_reconciled 30 || fail "switches not reconciled"
lab_sflow_enable "$sfport" 100 2
lab_ping_all >/dev/null || fail "hosts do not reach each other"

# Mice: a sink on h3 and h4 (port 7000) and a client on h1 and h2 that opens a new TCP connection
# (a new source port, so a new 5-tuple) 20 times a second, sends 20 kB and closes.
for h in h3 h4; do
  lab_bg "sink-$h" "$h" python3 -c "
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$(lab_ip "$h")', 7000)); s.listen(512)
def drain(c):
    try:
        while c.recv(65536): pass
    finally: c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()"
done
for h in h1 h2; do
  lab_bg "mice-$h" "$h" python3 -c "
import socket, time, itertools
dsts = ['$(lab_ip h3)', '$(lab_ip h4)']; data = b'x' * 20000; n = 0
for i in itertools.count():
    try:
        c = socket.create_connection((dsts[i % 2], 7000), timeout=2); c.sendall(data); c.close(); n += 1
    except OSError: time.sleep(0.2)
    if i % 100 == 0: print(n, flush=True)
    time.sleep(0.05)"
done
# Elephants: iperf3 servers on 4 ports of every host; every 6 s a new TCP elephant of 8-30 s
# between a random pair of hosts across the fabric, on a random client port (about 3 at a time, so
# that some share a fabric link and Tusk has something to move).
for h in h1 h2 h3 h4; do for p in 5201 5202 5203 5204; do lab_bg "srv-$h-$p" "$h" iperf3 -s -B "$(lab_ip "$h")" -p "$p"; done; done
lab_bg elephants - python3 -c "
import random, subprocess, time
r = random.Random(11); slot = {}
pairs = [('h1','h3'),('h1','h4'),('h2','h3'),('h2','h4'),('h3','h1'),('h3','h2'),('h4','h1'),('h4','h2')]
ip = {'h1': '$(lab_ip h1)', 'h2': '$(lab_ip h2)', 'h3': '$(lab_ip h3)', 'h4': '$(lab_ip h4)'}
while True:
    a, b = r.choice(pairs); slot[b] = slot.get(b, -1) + 1; port = 5201 + slot[b] % 4
    subprocess.Popen(['ip', 'netns', 'exec', '$(lab_ns h1)'.replace('h1', a), 'iperf3', '-c', ip[b], '-p', str(port),
                      '--cport', str(r.randrange(20000, 60000)), '-t', str(r.randrange(8, 31))],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)"

csv=$LAB_DIR/soak.csv
echo "t_s,rss_kb,fds,ts_max,ts_l1,ts_l2,ts_s1,ts_s2,decisions" >"$csv"
t0=$SECONDS
end=$((SECONDS + MINUTES * 60))
lab_log "soak: $MINUTES min, polls every $POLL s, budget $BUDGET entries per switch"
while ((SECONDS < end)); do
  kill -0 "$CTL_PID" 2>/dev/null || fail "the controller died after $((SECONDS - t0)) s"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$CTL_PID/status")
  fds=$(find "/proc/$CTL_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  counts=()
  for s in l1 l2 s1 s2; do counts+=("$(ctl_ts_entries "$s" | grep -c . || true)"); done
  max=$(printf '%s\n' "${counts[@]}" | sort -n | tail -1)
  dec=$(grep -c . "$LAB_DIR/decisions.jsonl" 2>/dev/null || true)
  echo "$((SECONDS - t0)),$rss,$fds,$max,$(IFS=,; echo "${counts[*]}"),$dec" >>"$csv"
  sleep "$POLL"
done
mice=$(cat <(tail -n 1 "$(lab_out mice-h1)") <(tail -n 1 "$(lab_out mice-h2)") | awk '{n += $1} END {print n + 0}')
cp "$csv" "${SOAK_CSV:-/tmp/tusk-soak.csv}"
python3 - "$csv" "$BUDGET" "$MAX_SLOPE" "$mice" <<'EOF' || fail "soak checks failed"
import csv, sys
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[1]))]
budget, max_slope, mice = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def slope(rs):
    n = len(rs); mx = sum(r["t_s"] for r in rs) / n; my = sum(r["rss_kb"] for r in rs) / n
    sxx = sum((r["t_s"] - mx) ** 2 for r in rs)
    return 60 * sum((r["t_s"] - mx) * (r["rss_kb"] - my) for r in rs) / sxx if sxx else 0.0
half = rows[len(rows) // 2:]
warm = rows[min(4, len(rows) - 1)]
s_all, s_half = slope(rows), slope(half)
print(f"polls: {len(rows)} over {rows[-1]['t_s'] / 60:.1f} min; short flows opened: {mice}; decisions: {int(rows[-1]['decisions'])}")
print(f"RSS: first {rows[0]['rss_kb'] / 1024:.1f} MB, min {min(r['rss_kb'] for r in rows) / 1024:.1f}, max {max(r['rss_kb'] for r in rows) / 1024:.1f}, last {rows[-1]['rss_kb'] / 1024:.1f} MB; "
      f"slope {s_all:+.1f} kB/min over the run, {s_half:+.1f} kB/min over the second half")
print(f"fds: after warm-up {int(warm['fds'])}, min {int(min(r['fds'] for r in rows))}, max {int(max(r['fds'] for r in rows))}, last {int(rows[-1]['fds'])}")
print(f"elephant entries per bridge: max {int(max(r['ts_max'] for r in rows))} (budget {budget}); polls with any: {sum(1 for r in rows if r['ts_max'] > 0)}")
bad = []
if s_half > max_slope: bad.append(f"RSS grows {s_half:.1f} kB/min over the second half (limit {max_slope})")
if any(r["ts_max"] > budget for r in rows): bad.append("a bridge held more elephant entries than the budget")
if rows[-1]["fds"] > warm["fds"] + 4: bad.append("file descriptors grew")
if rows[-1]["decisions"] == 0: bad.append("no elephant was ever placed: the soak did not exercise the loop")
for b in bad: print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
echo "ok: soak of $MINUTES min"
