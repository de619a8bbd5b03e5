#!/usr/bin/env bash
# Flow analytics on real Open vSwitch: `tusk flows --listen` against iperf3's own figures.
#
# Builds the leaf-spine-2x2 lab (fabric links shaped to 100 Mbit/s, static forwarding: every leaf
# uses s1), exports sFlow from all four bridges to `tusk flows --listen --format json`, and runs
#   - iperf3 UDP h1 -> h3 at 30 Mbit/s   (an elephant: above 10 % of the 100 Mbit/s link)
#   - iperf3 UDP h2 -> h4 at 6 Mbit/s    (not an elephant)
#   - iperf3 TCP h2 -> h3                 (takes what is left of l1 -> s1: an elephant)
#   - ping h4 -> h1                       (mice)
# Then checks Tusk's final state:
#   (a) each iperf3 flow's rate is within 15 % of what iperf3 measured (scaled to bits on the wire:
#       sFlow counts whole frames, iperf3 counts payload);
#   (b) the flows above the threshold, and only those, are elephants; the pings are not;
#   (c) each flow's links are the ports it really crossed: the path of the static routes, and every
#       such port's packet counters (ovs-ofctl dump-ports) moved by at least the flow's packets.
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-flows-ovs.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
[[ -x $TUSK_BIN ]] || { echo "FAIL: TUSK_BIN=$TUSK_BIN is not executable" >&2; exit 1; }
LAB_PREFIX=${LAB_PREFIX:-tkfl-}
SAMPLING=${SFLOW_SAMPLING:-8}
SECS=${IPERF_SECONDS:-14}
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

lab_require iperf3
lab_init
lab_leaf_spine
lab_static_routes low
lab_ping_all 5 || fail "hosts cannot reach each other through the static routes"

port=$(lab_free_port udp)
# Listen first: OVS sends from a connected UDP socket and loses datagrams while nothing listens.
lab_bg flows - "$TUSK_BIN" flows --listen "127.0.0.1:$port" --format json --link-speed 100mbit \
  --threshold 10% --duration "$SECS" --top 200
flows_pid=$LAB_LAST_PID
lab_wait_listen udp "$port" - 10 "$flows_pid" || fail "tusk flows is not listening: $(cat "$(lab_err flows)")"
lab_sflow_enable "$port" "$SAMPLING" 1 128

for b in s1 s2 l1 l2; do lab_ofctl "$b" dump-ports >"$LAB_DIR/ports-before-$b.txt"; done

lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_wait_listen tcp 5201 h3 10 "$LAB_LAST_PID" || fail "iperf3 server on h3 did not start"
lab_bg srv3b h3 iperf3 -s -B "$(lab_ip h3)" -p 5202
lab_wait_listen tcp 5202 h3 10 "$LAB_LAST_PID" || fail "second iperf3 server on h3 did not start"
lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
lab_wait_listen tcp 5201 h4 10 "$LAB_LAST_PID" || fail "iperf3 server on h4 did not start"

lab_bg udp-big h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport 41001 -u -b 30M -l 1400 -t "$SECS" -J
big=$LAB_LAST_PID
lab_bg udp-small h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport 41002 -u -b 6M -l 1400 -t "$SECS" -J
small=$LAB_LAST_PID
lab_bg tcp h2 iperf3 -c "$(lab_ip h3)" -p 5202 --cport 41003 -t "$SECS" -J
tcp=$LAB_LAST_PID
lab_bg ping h4 ping -n -q -i 0.2 -w "$SECS" "$(lab_ip h1)"

set +e
# Tusk's final state is taken while the flows still run (it ends a second or so before them).
wait "$flows_pid"; rf=$?
wait "$big"; r1=$?; wait "$small"; r2=$?; wait "$tcp"; r3=$?
set -e
((r1 == 0 && r2 == 0 && r3 == 0)) || fail "an iperf3 client failed ($r1 $r2 $r3): $(tail -c 400 "$(lab_err tcp)")"
((rf == 0)) || fail "tusk flows exited $rf: $(tail -c 400 "$(lab_err flows)")"
for b in s1 s2 l1 l2; do lab_ofctl "$b" dump-ports >"$LAB_DIR/ports-after-$b.txt"; done
lab_ovs_map >"$LAB_DIR/ovs-map.jsonl"

python3 - "$LAB_DIR" <<'PY'
import json, re, sys, os
d = sys.argv[1]
lines = [l for l in open(os.path.join(d, "flows.out")) if l.strip()]
state = json.loads(lines[-1])
assert "flows" in state and "links" in state, "last line is not a state object"
ovs = [json.loads(l) for l in open(os.path.join(d, "ovs-map.jsonl"))]
name_of = {(o["datapathId"], o["ofport"]): o["name"] for o in ovs}
problems = []

def iperf(name, tcp):
    j = json.load(open(os.path.join(d, name + ".out")))
    end = j["end"]
    if tcp:
        bps = end["sum_received"]["bits_per_second"]
        # Average payload per segment from the sender's bytes and the MSS is not in the JSON:
        # TCP over this path carries 1448-byte payloads in 1514-byte frames, 1518 with the FCS
        # (sFlow's frame length includes it).
        return bps, 1518 / 1448
    bps = end["sum"]["bits_per_second"]
    return bps, (1400 + 8 + 20 + 14 + 4) / 1400

# (flow, src, dst, proto, sport, dport, expected elephant, expected path as (dpid, port, direction))
l1, l2, s1 = 11, 12, 1
cases = [
    ("udp-big", "10.0.0.1", "10.0.0.3", 17, 41001, 5201, True,
     {(l1, 1, "in"), (l1, 3, "out"), (s1, 1, "in"), (s1, 2, "out"), (l2, 3, "in"), (l2, 1, "out")}),
    ("udp-small", "10.0.0.2", "10.0.0.4", 17, 41002, 5201, False,
     {(l1, 2, "in"), (l1, 3, "out"), (s1, 1, "in"), (s1, 2, "out"), (l2, 3, "in"), (l2, 2, "out")}),
    ("tcp", "10.0.0.2", "10.0.0.3", 6, 41003, 5202, True,
     {(l1, 2, "in"), (l1, 3, "out"), (s1, 1, "in"), (s1, 2, "out"), (l2, 3, "in"), (l2, 1, "out")}),
]
def find(src, dst, proto, sport, dport):
    for f in state["flows"]:
        if (f["src"], f["dst"], f["proto"], f["sport"], f["dport"]) == (src, dst, proto, sport, dport):
            return f
    return None

def counters(when):
    out = {}
    for b, dpid in (("s1", 1), ("s2", 2), ("l1", 11), ("l2", 12)):
        text = open(os.path.join(d, f"ports-{when}-{b}.txt")).read()
        for m in re.finditer(r"port\s+\"?(\w+)\"?:\s*rx pkts=(\d+).*?\n\s*tx pkts=(\d+)", text):
            p = m.group(1)
            if p.isdigit():
                out[(dpid, int(p))] = (int(m.group(2)), int(m.group(3)))
    return out
before, after = counters("before"), counters("after")

for name, src, dst, proto, sport, dport, elephant, path in cases:
    f = find(src, dst, proto, sport, dport)
    if f is None:
        seen = [(g["src"], g["sport"], g["dst"], g["dport"], g["proto"], g["bps"]) for g in state["flows"] if g["src"] == src]
        try:
            sent = json.load(open(os.path.join(d, name + ".out")))["end"]
        except Exception as e:
            sent = f"no iperf3 result ({e})"
        problems.append(f"{name}: flow {src}:{sport} > {dst}:{dport} not found; flows from {src}: {seen}; iperf3 end: {str(sent)[:300]}"); continue
    bps, overhead = iperf(name, proto == 6)
    wire = bps * overhead
    err = abs(f["bps"] - wire) / wire
    print(f"{name}: tusk {f['bps']/1e6:.2f} Mbit/s (±{f['errorPercent']}%), iperf3 {bps/1e6:.2f} Mbit/s payload = {wire/1e6:.2f} on the wire: {err*100:.1f} % off; elephant {f['elephant']}")
    if err > 0.15: problems.append(f"{name}: rate {f['bps']:.0f} is {err*100:.1f} % from iperf3's {wire:.0f}")
    if f["elephant"] != elephant: problems.append(f"{name}: elephant={f['elephant']}, expected {elephant}")
    seen = {(l.get("dpid"), l.get("port"), l["direction"]) for l in f["links"]}
    if seen != path: problems.append(f"{name}: links {sorted(seen)} != path {sorted(path)}")
    pkts = wire / 8 / 1500 * 0.9 * 10  # a conservative packet count for 10 s of the flow
    for dpid, p, direction in path:
        if (dpid, p) not in before or (dpid, p) not in after:
            problems.append(f"{name}: no port counters for {dpid}:{p}"); continue
        i = 0 if direction == "in" else 1
        moved = after[(dpid, p)][i] - before[(dpid, p)][i]
        if moved < pkts: problems.append(f"{name}: port {dpid}:{p} {direction} moved only {moved} packets")

pings = [f for f in state["flows"] if f["proto"] == 1]
if not pings: problems.append("the pings were not seen at all")
for f in pings:
    if f["elephant"]: problems.append(f"ping {f['src']} > {f['dst']} is an elephant")
others = [f for f in state["flows"] if f["elephant"] and (f["sport"], f["dport"]) not in ((41001, 5201), (41003, 5202))]
if others: problems.append(f"unexpected elephants: {[(o['src'], o['dst'], o['sport'], o['dport']) for o in others]}")
links = {(l["dpid"], l["port"]): l for l in state["links"] if l["dpid"] is not None}
u = links.get((11, 3))
if u is None: problems.append("link l1:3 (to s1) missing from the links")
else: print(f"l1:3 -> s1: {u['bps']/1e6:.1f} Mbit/s, utilization {u['utilization']:.2f} of {u['speedBps']/1e6:.0f} Mbit/s")
if problems:
    print("\n".join("FAIL: " + p for p in problems)); sys.exit(1)
print("flows e2e: rates, elephants and links match")
PY
