#!/usr/bin/env bash
# The operator's view on real switches: while `tusk controller` moves iperf3 elephants on an Open
# vSwitch leaf-spine, its HTTP API answers every endpoint with data that agrees with the switches, the
# live page draws the fabric and the elephants in headless Chromium, and bad clients get 4xx answers
# while the daemon keeps running.
#
# Lab: leaf-spine 2x2 (topologies/leaf-spine-2x2.yaml), fabric links shaped to 100 Mbit/s, sFlow
# 1-in-100 with 2 s counter polling. Two iperf3 TCP elephants h1 -> h3 and h2 -> h4; pairs of client
# ports are tried until ECMP puts both on one spine and Tusk moves one (a decision to check).
#
# Checks, against the switches (ovs-ofctl) and iperf3, not against Tusk's own logs:
#   - /activeflows lists both iperf3 5-tuples as elephants; /elephants lists only iperf3 flows;
#   - every placement in /elephants and every installed decision in /decisions is a TS entry that
#     `ovs-ofctl dump-flows` shows on l1 (cookie, 5-tuple, output port);
#   - /metric/ALL/max:ifinutilization/json within 10 % of the utilization computed from
#     `ovs-ofctl dump-ports` deltas over the same seconds (the API's counter window, which ends up
#     to 1 s before the datagram that carried the counters: the switch's sFlow agent sends what it
#     holds at its one-second tick, or sooner when flow samples fill a datagram);
#   - /agents/json names the four switches; /links/json has every directed link, the busy spine
#     links loaded; /topology/json shows every session reconciled; /events/json and the SSE feeds
#     carry the elephants' start and the move; /metrics carries the per-agent and per-switch series;
#   - the page (headless Chromium over the DevTools protocol, Tests/e2e/lib/page_check.py) draws every
#     link and at least one elephant path, and changes after an SSE event; a screenshot is saved;
#   - bad requests get a 4xx and a JSON error, and the daemon keeps running: unknown paths, malformed
#     query values, a 10 MB body, PUT /policy without and with a wrong token, an invalid policy (the
#     old one kept), 1,000 concurrent long polls, and 50 SSE clients that never read (memory bounded).
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-api-leaf-spine.sh
# Environment: RUN_SECONDS (35: the flows outlast the checks, the page's included), SEED (3),
# LAB_KEEP=1 leaves the lab up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkap-}
LAB_STATIC_ARP=0
LAB_RATE=${LAB_RATE:-100mbit}
RUN_SECONDS=${RUN_SECONDS:-35}
SEED=${SEED:-3}
PY=/usr/bin/python3   # Debian's, with python3-websocket
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"

fail() {
  echo "FAIL: $*" >&2
  [[ -n ${LAB_DIR:-} && -f $LAB_DIR/tusk.err ]] && { echo "--- tusk log (last 40 lines)" >&2; tail -n 40 "$LAB_DIR/tusk.err" >&2; }
  exit 1
}

lab_require iperf3 python3 curl chromium
$PY -c 'import websocket' 2>/dev/null || fail "python3-websocket is not installed (make deps-e2e)"
lab_init
lab_leaf_spine
topo=$repo/topologies/leaf-spine-2x2.yaml
nsw=${#LAB_SWITCHES[@]}

ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
httpport=$(lab_free_port tcp)
base=http://127.0.0.1:$httpport
token=$LAB_DIR/token
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$token"
policy=$LAB_DIR/policy.yaml
cat >"$policy" <<EOF
# e2e: leaf-spine, 100 Mbit/s fabric links, 1-in-100 sampling
sflow: {sampling-rate: 100, polling-interval: 2s}
selector: {algorithm: tusk, control-interval: 1s}
flow-table: {idle-timeout: 5s}
EOF
lab_bg tusk - "$TUSK_BIN" controller --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" \
  --policy "$policy" --decisions "$LAB_DIR/decisions.jsonl" --echo-interval 2 \
  --http "127.0.0.1:$httpport" --http-token-file "$token"
tusk_pid=$LAB_LAST_PID
lab_wait_listen tcp "$ofport" - 20 "$tusk_pid" || fail "tusk controller does not listen on $ofport"
lab_wait_listen tcp "$httpport" - 20 "$tusk_pid" || fail "tusk controller does not serve HTTP on $httpport"

args=()
for s in "${LAB_SWITCHES[@]}"; do
  args+=(-- set-controller "$(lab_br "$s")" "tcp:127.0.0.1:$ofport" -- set controller "$(lab_br "$s")" max_backoff=1000)
done
lab_vsctl "${args[@]}"
deadline=$((SECONDS + 30))
until (($(grep 'reconciled: switch programmed' "$LAB_DIR/tusk.err" | grep -o 'dpid=[0-9a-f]*' | sort -u | wc -l) >= nsw)); do
  ((SECONDS < deadline)) || fail "the switches were not reconciled within 30 s"
  sleep 0.2
done
lab_sflow_enable "$sfport" 100 2
lab_ping_all >/dev/null || fail "hosts do not reach each other through the fabric"

api() { curl -sS --max-time 20 "$base$1"; }
# status METHOD PATH [curl args...]: prints the HTTP status; the body goes to $LAB_DIR/last.json.
status() { local m=$1 p=$2; shift 2; curl -sS --max-time 30 -o "$LAB_DIR/last.json" -w '%{http_code}' -X "$m" "$@" "$base$p"; }
json_error() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d.get("error"), str) and d["status"] == int(sys.argv[2]), d' "$LAB_DIR/last.json" "$1"; }
alive() { kill -0 "$tusk_pid" 2>/dev/null || fail "tusk controller died ($1)"; [[ $(status GET /version) == 200 ]] || fail "API not answering after $1"; }

# -- topology, sessions, agents ----------------------------------------------------------------------------
api /topology/json >"$LAB_DIR/topology.json"
$PY - "$LAB_DIR/topology.json" <<'EOF' || fail "/topology/json: $(cat "$LAB_DIR/topology.json")"
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t["switches"]) == 4 and len(t["links"]) == 8 and len(t["hosts"]) == 4, t
assert all(s["session"] == "reconciled" for s in t["switches"]), [s["session"] for s in t["switches"]]
EOF

lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
lab_wait_listen tcp 5201 h4 10 || fail "iperf3 server on h4"

portbytes() {  # SWITCH: "port rx_bytes tx_bytes" per OpenFlow port
  lab_ofctl "$1" dump-ports | tr -d ',' | awk '/port/ && /rx/ {p=$2; sub(":", "", p); for (i = 1; i <= NF; i++) if ($i ~ /^bytes=/) {sub("bytes=", "", $i); rx=$i}}
    /tx/ && !/rx/ {for (i = 1; i <= NF; i++) if ($i ~ /^bytes=/) {sub("bytes=", "", $i); print p, rx, $i}}'
}
snapshot_ports() {  # "time switch port rx tx", each switch stamped just before it is read
  local s ts
  for s in l1 l2 s1 s2; do ts=$(date +%s.%N); portbytes "$s" | sed "s/^/$ts $s /"; done
}

mapfile -t ports < <($PY -c "
import random; r = random.Random($SEED)
print('\n'.join(map(str, r.sample(range(20000, 60000), 16))))")
moved=0
attempt=0
while ((attempt < 6)); do
  c1=${ports[2 * attempt]}; c2=${ports[2 * attempt + 1]}
  attempt=$((attempt + 1))
  before=$(api '/decisions/json?after=0&maxDecisions=10000' | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d[-1]["id"] if d else 0)')
  lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport "$c1" -t "$RUN_SECONDS" -J >"$LAB_DIR/a$attempt.h1.json" &
  p1=$!
  lab_exec h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport "$c2" -t "$RUN_SECONDS" -J >"$LAB_DIR/a$attempt.h2.json" &
  p2=$!
  sleep 10
  n=$(api "/decisions/json?after=$before" | $PY -c 'import json,sys; print(sum(1 for d in json.load(sys.stdin) if d["status"] == "installed"))')
  if ((n == 0)); then
    lab_log "attempt $attempt (ports $c1, $c2): no move (ECMP spread them); next ports"
    wait "$p1" "$p2" || true
    sleep 7   # the analytics forget the flows, the entries idle out
    continue
  fi
  moved=1
  lab_log "attempt $attempt (ports $c1, $c2): $n decision(s) installed; checking the API against the switches"
  # Utilization over the same seconds: the port counters every 0.2 s for 6 s, then /metric, whose
  # counter rates cover the 2 s polling interval that ended up to 1 s before the datagram that
  # brought them (`lastUpdate` ms before the answer).
  : >"$LAB_DIR/ports.log"
  until_ns=$(($(date +%s%N) + 6000000000))
  while (($(date +%s%N) < until_ns)); do snapshot_ports >>"$LAB_DIR/ports.log"; sleep 0.2; done
  t0=$(date +%s.%N)
  api '/metric/ALL/max:ifinutilization,max:ifoututilization/json' >"$LAB_DIR/metric.json"
  t1=$(date +%s.%N)
  for e in activeflows/ALL/elephants/json elephants/json "decisions/json?after=$before" links/json agents/json \
           "events/json?eventID=0&maxEvents=10000" version; do
    api "/$e" >"$LAB_DIR/$(echo "$e" | cut -d'?' -f1 | tr '/' '_')"
  done
  api /metrics >"$LAB_DIR/metrics.txt"
  lab_ofctl l1 dump-flows >"$LAB_DIR/l1.flows"
  timeout 8 curl -sS -N "$base/events/sse?eventID=0" >"$LAB_DIR/events.sse" 2>/dev/null || true
  timeout 4 curl -sS -N "$base/flows/sse" >"$LAB_DIR/flows.sse" 2>/dev/null || true
  $PY "$here/lib/page_check.py" "$base/" "$LAB_DIR/page.png" \
    "curl -sS -X PUT -H 'Authorization: Bearer $(cat "$token")' --data-binary @$policy $base/policy >/dev/null" \
    >"$LAB_DIR/page.json" || fail "page check: $(cat "$LAB_DIR/page.json")"
  wait "$p1" || fail "iperf3 h1 -> h3 failed: $(tail -c 300 "$LAB_DIR/a$attempt.h1.json")"
  wait "$p2" || fail "iperf3 h2 -> h4 failed: $(tail -c 300 "$LAB_DIR/a$attempt.h2.json")"
  break
done
((moved)) || fail "no attempt made ECMP collide (6 port pairs)"

$PY - "$LAB_DIR" "$(lab_ip h1)" "$(lab_ip h3)" "$c1" "$(lab_ip h2)" "$(lab_ip h4)" "$c2" "$t0" "$t1" "$repo" "$attempt" <<'EOF' || fail "the API disagrees with the switches"
import json, re, sys
d, h1, h3, c1, h2, h4, c2, t0, t1, repo, attempt = sys.argv[1:]
ld = lambda n: json.load(open(f"{d}/{n}"))
iperf = {f"{h1},{h3},6,{c1},5201", f"{h2},{h4},6,{c2},5201"}
errors = []
def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok: errors.append(what)

flows = ld("activeflows_ALL_elephants_json")
ele = {f["key"] for f in flows if f["elephant"]}
check(iperf <= ele, f"/activeflows lists both iperf3 flows as elephants ({sorted(ele)})")
placed = ld("elephants_json")
check(placed and {p["key"] for p in placed} <= iperf, f"/elephants lists only iperf3 flows ({[p['key'] for p in placed]})")

# Each placement is a TS entry on l1 with its cookie, 5-tuple and output port.
entries = []
for line in open(f"{d}/l1.flows"):
    m = re.search(r"cookie=(0x5453[0-9a-f]+)", line)
    if m:
        entries.append((m.group(1), line))
for p in placed:
    for sw in p["switches"]:
        if sw["switch"] != "l1": continue
        hit = [l for c, l in entries if c == sw["cookie"] and f"tp_src={p['sport']}" in l and f"nw_src={p['src']}" in l
               and re.search(rf"output:\"?[^,\s]*?{sw['outPort']}\b|output:{sw['outPort']}\b", l)]
        check(bool(hit), f"placement {p['key']} is the l1 entry {sw['cookie']} -> port {sw['outPort']}")
decisions = [x for x in ld("decisions_json") if x["status"] == "installed"]
for x in decisions:
    key = f"{x['src']},{x['dst']},{x['proto']},{x['sport']},{x['dport']}"
    hit = [l for c, l in entries if f"tp_src={x['sport']}" in l and f"nw_src={x['src']}" in l]
    check(key in iperf and bool(hit), f"decision {x['id']} ({key} -> {'>'.join(x['to'])}) is a TS entry dump-flows shows")

# Utilization from dump-ports against /metric (percent of the stated 100 Mbit/s), for the interface
# the API names (dpid, port) over its counter window: the 2 s polling interval that ended lastUpdate ms
# before the answer. The port's byte counts are interpolated to the window's ends between the 0.2 s
# snapshots (at 0.5 s one run read 100.9 against 92.0 %: TCP's rate swings within half a second).
series = {}
for line in open(f"{d}/ports.log"):
    ts, sw, port, rx, tx = line.split()
    if port.isdigit(): series.setdefault((sw, int(port)), []).append((float(ts), int(rx), int(tx)))
def at(points, t, i):
    if t <= points[0][0]: return points[0][i]
    for a, b in zip(points, points[1:]):
        if t <= b[0]: return a[i] + (b[i] - a[i]) * (t - a[0]) / (b[0] - a[0])
    return points[-1][i]
m = {x["metricName"]: x for x in ld("metric.json")}
t_api = (float(t0) + float(t1)) / 2
names = {int(dp): n for n, dp in re.findall(r"name: (\w+), dpid: (\d+)", open(f"{repo}/topologies/leaf-spine-2x2.yaml").read())}
for name, i in (("max:ifinutilization", 1), ("max:ifoututilization", 2)):
    x = m[name]
    end = t_api - x.get("lastUpdate", 0) / 1000
    p = series.get((names.get(int(x.get("dpid", "0"), 16)), x.get("port")))
    check(p is not None, f"{name} names a switch port ({x.get('dpid')}, {x.get('port')})")
    # The counter sample behind the value was taken when the switch's sFlow agent polled the port,
    # and it reaches Tusk with the next datagram the agent sends: at once when flow samples fill one,
    # at the agent's next one-second tick at the latest. So the window ends between 1 s before `end`
    # and `end`; the check takes the dump-ports rate of the window, in that second, nearest the API's.
    api = x.get("metricValue", -1)
    shifts = [end - k * 0.05 for k in range(21)]
    ovs_all = [(at(p, e, i) - at(p, e - 2, i)) * 8 / 2 / 1e6 for e in shifts] if p else [-100]
    ovs = min(ovs_all, key=lambda v: abs(api - v))
    at_end = ovs_all[0]
    check(abs(api - ovs) <= 0.10 * ovs, f"{name}: API {api:.1f} % vs dump-ports {ovs:.1f} % on {names.get(int(x.get('dpid', '0'), 16))} port {x.get('port')} "
          f"(within 10 %; dump-ports over the window's second of uncertainty: {min(ovs_all):.1f}-{max(ovs_all):.1f} %, {at_end:.1f} % for the window ending at the datagram)")

agents = ld("agents_json")
check({a["switch"] for a in agents.values()} >= {"l1", "l2", "s1", "s2"} and all(a["datagrams"] > 0 for a in agents.values()),
      f"/agents names the four switches ({sorted({str(a['switch']) for a in agents.values()})})")
links = ld("links_json")
busy = [l for l in links if l["link"] in ("l1>s1", "l1>s2") and l["utilization"] > 0.5]
check(len(links) == 16 and len(busy) == 2, f"/links: 16 directed links, both l1 uplinks busy ({[(l['link'], l['utilization']) for l in links if l['link'].startswith('l1>s')]})")
types = {e["type"] for e in ld("events_json")}
check({"elephantStart", "move", "switchUp"} <= types, f"/events carries elephantStart, move, switchUp ({sorted(types)})")
sse = open(f"{d}/events.sse").read()
check("event: elephantStart" in sse and "event: move" in sse, "/events/sse streams the same events")
fsse = open(f"{d}/flows.sse").read()
check("event: flows" in fsse and "event: links" in fsse, "/flows/sse streams flows and links")
metrics = open(f"{d}/metrics.txt").read()
for s in ("tusk_sflow_datagrams_total{agent=", "tusk_flow_table_entries{", "tusk_elephant_moves_total", "tusk_control_round_duration_bucket",
          "tusk_openflow_flow_mods_total{", "tusk_rearranging_rounds_total{state="):
    check(s in metrics, f"/metrics has {s}")
version = ld("version")
check(version.get("rearranging") in ("ran", "backing-off", "settled"), f"/version says whether the rearranging ran ({version.get('rearranging')!r})")
page = ld("page.json")
check(page["linksDrawn"] == page["linksInTopology"] == 8, f"the page draws every link ({page['linksDrawn']})")
check(page["elephantsDrawn"] >= 1, f"the page draws elephant paths ({page['elephantsDrawn']})")
check(page["sseEventsAfter"] > page["sseEventsBefore"] and page["domChangedAfterEvent"], "the page changed after an SSE event")
print(json.dumps(page))
if errors:
    # What the flows did, second by second (iperf3), to tell a lab hiccup from a Tusk fault.
    for h in ("h1", "h2"):
        try:
            r = json.load(open(f"{d}/a{attempt}.{h}.json"))
            print(f"iperf3 {h}: " + " ".join(f"{i['sum']['bits_per_second'] / 1e6:.0f}" for i in r["intervals"]) + " Mbit/s")
        except Exception as e:
            print(f"iperf3 {h}: {e}")
sys.exit(1 if errors else 0)
EOF

# -- bad requests: a 4xx with a JSON error, and the daemon goes on ------------------------------------------------
[[ $(status GET /no/such/path) == 404 ]] && json_error 404 || fail "unknown path: $(cat "$LAB_DIR/last.json")"
alive "an unknown path"
for q in 'activeflows/ALL/elephants/json?maxFlows=abc' 'activeflows/ALL/elephants/json?minValue=-5' 'decisions/json?after=x' \
         'events/json?timeout=999' 'metric/ALL/foo:ifinutilization/json' 'activeflows/999.1.1.1/elephants/json'; do
  [[ $(status GET "/$q") == 400 ]] && json_error 400 || fail "/$q: not a 400: $(cat "$LAB_DIR/last.json")"
done
alive "malformed query values"
head -c $((10 << 20)) /dev/zero | tr '\0' '#' >"$LAB_DIR/big.body"
[[ $(status PUT /policy -H "Authorization: Bearer $(cat "$token")" --data-binary @"$LAB_DIR/big.body") == 413 ]] && json_error 413 \
  || fail "a 10 MB body: $(cat "$LAB_DIR/last.json")"
alive "a 10 MB body"
[[ $(status PUT /policy --data-binary @"$policy") == 401 ]] && json_error 401 || fail "PUT /policy without a token"
[[ $(status PUT /policy -H "Authorization: Bearer not-the-token-at-all" --data-binary @"$policy") == 403 ]] && json_error 403 \
  || fail "PUT /policy with a wrong token"
api /policy >"$LAB_DIR/policy.before"
printf 'selector:\n  algorithm: tusk\n  control-interval: banana\n' >"$LAB_DIR/bad-policy.yaml"
[[ $(status PUT /policy -H "Authorization: Bearer $(cat "$token")" --data-binary @"$LAB_DIR/bad-policy.yaml") == 400 ]] \
  && grep -q '"policy:3:' "$LAB_DIR/last.json" || fail "an invalid policy: $(cat "$LAB_DIR/last.json")"
api /policy | cmp -s - "$LAB_DIR/policy.before" || fail "the old policy did not stay in force"
alive "bad writes"

# 1,000 concurrent long polls, answered by one event; then 50 SSE clients that never read.
rss() { awk '/VmRSS/ {print $2}' "/proc/$tusk_pid/status"; }
latest=$(api '/events/json?eventID=0&maxEvents=10000' | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d[-1]["eventID"] if d else 0)')
$PY - "$httpport" "$latest" "$base" "$(cat "$token")" "$policy" <<'EOF' || fail "1,000 concurrent long polls"
import json, resource, socket, subprocess, sys, time
port, latest, base, token, policy = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(f"GET /events/json?eventID={latest}&timeout=30 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    socks.append(s)
time.sleep(1)
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "PUT", "-H", f"Authorization: Bearer {token}", "--data-binary", f"@{policy}", f"{base}/policy"], check=True)
ok = 0
for s in socks:
    data = b""
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        events = json.loads(body)
    except ValueError:
        events = []
    # Answered with events after the one it asked from (the reload, or events that came first).
    if head.startswith(b"HTTP/1.1 200") and events and all(e["eventID"] > int(latest) for e in events): ok += 1
    s.close()
print(f"long polls answered with new events: {ok} of 1000")
sys.exit(0 if ok == 1000 else 1)
EOF
alive "1,000 long polls"
rss0=$(rss)
$PY - "$httpport" "$base" "$(cat "$token")" "$policy" <<'EOF' || fail "SSE clients that never read"
import socket, subprocess, sys
port, base, token, policy = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
socks = []
for i in range(50):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /events/sse?eventID=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
# 2,000 events (policy reloads) while nobody reads.
for i in range(2000):
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "PUT", "-H", f"Authorization: Bearer {token}", "--data-binary", f"@{policy}", f"{base}/policy"], check=True)
for s in socks: s.close()
EOF
rss1=$(rss)
lab_log "RSS with 50 stalled SSE clients and 2,000 events: ${rss0} kB -> ${rss1} kB"
((rss1 - rss0 < 100000)) || fail "memory grew by $((rss1 - rss0)) kB with stalled SSE clients"
alive "stalled SSE clients"

# The screenshot and the page's figures beside the e2e log.
shots=${E2E_REPORT_DIR:-/tmp/tusk-e2e-api}
mkdir -p "$shots" && cp "$LAB_DIR/page.png" "$LAB_DIR/page.json" "$shots"/ && lab_log "screenshot: $shots/page.png"
echo "ok: the API agrees with the switches, the page draws the fabric and elephants, bad clients get 4xx"
