#!/usr/bin/env bash
# sFlow from real Open vSwitch bridges into `tusk sflow decode` and `tusk sflow stats`.
#
# Builds the leaf-spine-2x2 lab with static forwarding (every leaf uses s1), exports sFlow from all
# four bridges to Tusk, runs one iperf3 elephant h1 -> h3 with a fixed client port and ping mice
# h2 <-> h4, then checks the decoded JSON:
#   (a) the elephant's 5-tuple is in raw-header records, on every bridge of its path, with the input
#       and output ifIndex of that path;
#   (b) counter samples carry generic (1), OpenFlow port (1004) and port name (1005) records, and for
#       every bridge port the ifIndex -> (datapathId, portNo, name) mapping equals what OVS reports;
#       each sub-agent is one bridge.
# Phase 2 points the bridges at `tusk sflow stats --listen` (datagrams > 0, malformed 0).
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-sflow-ovs.sh
# Environment: LAB_PREFIX (default tksf-), SFLOW_SAMPLING (64), SFLOW_POLLING (1), IPERF_SECONDS (6),
#              LAB_RATE (100mbit), LAB_KEEP=1 to leave the lab up for inspection.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
[[ -x $TUSK_BIN ]] || { echo "FAIL: TUSK_BIN=$TUSK_BIN is not executable" >&2; exit 1; }
LAB_PREFIX=${LAB_PREFIX:-tksf-}
SAMPLING=${SFLOW_SAMPLING:-64}
POLLING=${SFLOW_POLLING:-1}
IPERF_SECONDS=${IPERF_SECONDS:-6}
CPORT=45678          # iperf3 client port: fixes the elephant's 5-tuple
IPERF_PORT=5201
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

lab_require iperf3
lab_init
lab_leaf_spine
lab_static_routes low
lab_ping_all 5 || fail "hosts cannot reach each other through the static routes"

# ---- phase 1: tusk sflow decode --listen ------------------------------------------------------------
port=$(lab_free_port udp)
decode_seconds=$((IPERF_SECONDS + 9))
# The collector must listen before OVS sends: OVS uses a connected UDP socket, and while the port is
# closed the ICMP errors make it lose datagrams.
lab_bg decode - "$TUSK_BIN" sflow decode --listen "127.0.0.1:$port" --format json --duration "$decode_seconds"
decode_pid=$LAB_LAST_PID
lab_wait_listen udp "$port" - 10 "$decode_pid" || fail "tusk sflow decode is not listening on 127.0.0.1:$port: $(cat "$(lab_err decode)")"
lab_sflow_enable "$port" "$SAMPLING" "$POLLING" 128
lab_log "sFlow from 4 bridges to 127.0.0.1:$port (1-in-$SAMPLING, polling ${POLLING}s)"

lab_bg iperf3-server h3 iperf3 -s -1 -B "$(lab_ip h3)" -p "$IPERF_PORT"
lab_wait_listen tcp "$IPERF_PORT" h3 10 "$LAB_LAST_PID" || fail "iperf3 server did not start: $(cat "$(lab_err iperf3-server)")"
lab_bg ping-h2-h4 h2 ping -n -q -i 0.05 -w $((IPERF_SECONDS + 2)) "$(lab_ip h4)"
lab_bg ping-h4-h2 h4 ping -n -q -i 0.05 -w $((IPERF_SECONDS + 2)) "$(lab_ip h2)"
lab_exec h1 timeout $((IPERF_SECONDS + 20)) iperf3 -c "$(lab_ip h3)" -p "$IPERF_PORT" --cport "$CPORT" \
  -t "$IPERF_SECONDS" -J >"$LAB_DIR/iperf3.json" || fail "iperf3 client failed: $(tail -c 600 "$LAB_DIR/iperf3.json")"
mbps=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e6))' "$LAB_DIR/iperf3.json")
lab_log "iperf3 h1:$CPORT -> h3:$IPERF_PORT: $mbps Mbit/s received"

lab_ovs_map >"$LAB_DIR/ovs-map.jsonl"
set +e
wait "$decode_pid"; decode_rc=$?
set -e
lab_log "tusk sflow decode exited $decode_rc, $(wc -l <"$(lab_out decode)") samples"
[[ -s $(lab_err decode) ]] && sed 's/^/  decode stderr: /' "$(lab_err decode)" | head -20 >&2
((decode_rc == 0)) || fail "tusk sflow decode exited $decode_rc (1: bad input seen)"

# Path of h1 -> h3 with the "low" equal-cost choice: switch:in-port:out-port.
path="l1:1:3 s1:1:2 l2:3:1"
python3 - "$(lab_out decode)" "$LAB_DIR/ovs-map.jsonl" "$path" "$CPORT" "$IPERF_PORT" "$SAMPLING" <<'EOF'
import collections, json, sys

decode_file, map_file, path = sys.argv[1], sys.argv[2], sys.argv[3].split()
cport, dport, sampling = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
failures = []
def check(ok, msg):
    if not ok:
        failures.append(msg)
    return ok

samples = []
for n, line in enumerate(open(decode_file), 1):
    line = line.strip()
    if not line:
        continue
    try:
        samples.append(json.loads(line))
    except ValueError as e:
        failures.append(f"decode output line {n} is not JSON ({e}): {line[:200]}")
ports = [json.loads(l) for l in open(map_file) if l.strip()]
by_ifindex = {p["ifindex"]: p for p in ports}
by_name = {(p["switch"], p["ofport"]): p for p in ports}
flows = [s for s in samples if s.get("type") == "flow"]
counters = [s for s in samples if s.get("type") == "counters"]
print(f"decoded {len(samples)} samples: {len(flows)} flow, {len(counters)} counters; "
      f"agents {sorted({s['agent'] for s in samples})}, sub-agents {sorted({s['subAgent'] for s in samples})}")
check(flows, "no flow samples at all")
check(counters, "no counter samples at all")

# ---- (a) the elephant's 5-tuple in raw-header records ------------------------------------------------
want = ("10.0.0.1", "10.0.0.3", 6, cport, dport)
hits = []
for s in flows:
    for r in s.get("records", []):
        if r.get("format") == 1 and r.get("enterprise", 0) == 0 and \
           (r.get("src"), r.get("dst"), r.get("proto"), r.get("sport"), r.get("dport")) == want:
            hits.append(s)
print(f"(a) elephant {want}: {len(hits)} flow samples")
if check(hits, f"(a) no raw-header record with src/dst/proto/sport/dport = {want}"):
    seen = collections.Counter((s["input"], s["output"]) for s in hits)
    for hop in path:
        sw, pin, pout = hop.split(":")
        i, o = by_name[(sw, int(pin))], by_name[(sw, int(pout))]
        n = seen.get((i["ifindex"], o["ifindex"]), 0)
        print(f"    {sw}: input {i['name']} (ifIndex {i['ifindex']}) -> output {o['name']} (ifIndex {o['ifindex']}): {n} samples")
        check(n > 0, f"(a) no sample of the elephant on {sw} with input ifIndex {i['ifindex']} ({i['name']}) "
                     f"and output ifIndex {o['ifindex']} ({o['name']})")
    on_path = {(by_name[(h.split(':')[0], int(h.split(':')[1]))]["ifindex"], by_name[(h.split(':')[0], int(h.split(':')[2]))]["ifindex"]) for h in path}
    off = {k: v for k, v in seen.items() if k not in on_path}
    check(not off, f"(a) elephant samples off its path (input, output) -> count: {off}")
    rates = {s["samplingRate"] for s in hits}
    check(rates == {sampling}, f"(a) sampling rates {sorted(rates)}, configured 1-in-{sampling}")
    srcs = collections.Counter(s["sourceId"] for s in hits)
    print(f"    flow sample data sources: {dict(srcs)}")
    for s in hits[:1]:
        r = [r for r in s["records"] if r.get("format") == 1][0]
        print(f"    e.g. frameLength {r.get('frameLength')}, headerLength {r.get('headerLength')}, "
              f"srcMac {r.get('srcMac')}, dstMac {r.get('dstMac')}, samplingRate {s['samplingRate']}")

# Mice: ICMP between h2 and h4 (echo and reply), seen at least once.
icmp = [s for s in flows for r in s.get("records", [])
        if r.get("format") == 1 and r.get("proto") == 1 and {r.get("src"), r.get("dst")} == {"10.0.0.2", "10.0.0.4"}]
print(f"    ping h2 <-> h4: {len(icmp)} flow samples")
check(icmp, "no flow sample of the ping between 10.0.0.2 and 10.0.0.4")

# Interface values other than a plain ifIndex (e.g. "discarded:256" for group output) are worth seeing.
odd = collections.Counter(s["output"] for s in flows if not isinstance(s["output"], int))
if odd:
    print(f"    non-ifIndex outputs: {dict(odd)}")

# ---- (b) counter records and the ifIndex -> (datapathId, portNo) mapping ----------------------------------
decoded = {}   # ifIndex -> set of (datapathId, portNo, name)
formats = collections.Counter()
sub_dpids = collections.defaultdict(set)
other_sources = collections.Counter()
for s in counters:
    recs = {r["format"]: r for r in s.get("records", []) if r.get("enterprise", 0) == 0}
    formats.update(recs.keys())
    g, of, nm = recs.get(1), recs.get(1004), recs.get(1005)
    if not str(s["sourceId"]).startswith("0:"):
        # OVS also polls a bridge-level source (class 2, index 1000+) with datapath (2207) and
        # app resource (2203) counters; that is not a port.
        other_sources[(s["sourceId"], tuple(sorted(recs)))] += 1
        continue
    if not check(g and of and nm, f"(b) port counter sample without records 1, 1004 and 1005 (has {sorted(recs)}): sourceId {s['sourceId']}"):
        continue
    check(str(s["sourceId"]) == f"0:{g['ifIndex']}", f"(b) counter sample source {s['sourceId']} carries ifIndex {g['ifIndex']}")
    decoded.setdefault(g["ifIndex"], set()).add((of["datapathId"], of["portNo"], nm["name"]))
    sub_dpids[(s["agent"], s["subAgent"])].add(of["datapathId"])
print(f"(b) counter record formats: {dict(sorted(formats.items()))}; {len(decoded)} ifIndexes")
if other_sources:
    print("    other counter sources (sourceId, record formats) -> samples: "
          + ", ".join(f"{k[0]} {list(k[1])}: {v}" for k, v in sorted(other_sources.items())))
for key in (1, 1004, 1005):
    check(formats[key] > 0, f"(b) no counter record of format {key}")

OFPP_LOCAL = {65534, 0xfffffffe}   # OVS DB says 65534 (OF 1.0); OF 1.3 numbers it 0xfffffffe
for p in sorted(ports, key=lambda p: (p["datapathId"], p["ofport"])):
    got = decoded.get(p["ifindex"])
    want_t = (p["datapathId"], p["ofport"], p["name"])
    if not check(got, f"(b) no counter sample for {p['name']} (ifIndex {p['ifindex']}, bridge {p['bridge']})"):
        continue
    ok = len(got) == 1
    d, n, name = next(iter(got))
    same_port = n == p["ofport"] or (p["ofport"] in OFPP_LOCAL and n in OFPP_LOCAL)
    ok = ok and d == p["datapathId"] and same_port and name == p["name"]
    print(f"    ifIndex {p['ifindex']:>4}: tusk {sorted(got)}  ovs {want_t}  {'ok' if ok else 'MISMATCH'}")
    check(ok, f"(b) ifIndex {p['ifindex']}: Tusk decoded {sorted(got)}, OVS reports "
              f"datapath {p['datapathId']} port {p['ofport']} name {p['name']}")
extra = set(decoded) - set(by_ifindex)
check(not extra, f"(b) counter samples for ifIndexes OVS does not list on these bridges: {sorted(extra)}")

# Each bridge is one sub-agent (all share the agent address with agent=lo).
for k, d in sorted(sub_dpids.items()):
    check(len(d) == 1, f"(b) sub-agent {k} reports ports of several datapaths {sorted(d)}")
dp_sets = sorted(d for v in sub_dpids.values() for d in v)
print(f"    sub-agent -> datapath: { {f'{a}/{s}': sorted(d) for (a, s), d in sorted(sub_dpids.items())} }")
check(sorted(set(dp_sets)) == sorted({p["datapathId"] for p in ports}) and len(dp_sets) == len(set(dp_sets)),
      f"(b) sub-agents do not map one-to-one onto the bridges: {dict(sub_dpids)}")

if failures:
    print(f"\n{len(failures)} failure(s):", file=sys.stderr)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    sys.exit(1)
print("phase 1 ok")
EOF

# ---- phase 2: tusk sflow stats --listen -----------------------------------------------------------------------
port2=$(lab_free_port udp)
lab_bg stats - "$TUSK_BIN" sflow stats --listen "127.0.0.1:$port2" --format json --duration 6
stats_pid=$LAB_LAST_PID
lab_wait_listen udp "$port2" - 10 "$stats_pid" || fail "tusk sflow stats is not listening: $(cat "$(lab_err stats)")"
lab_sflow_target "127.0.0.1:$port2"
lab_exec h1 ping -n -q -i 0.05 -c 60 "$(lab_ip h4)" >/dev/null || fail "ping h1 -> h4 failed in phase 2"
set +e
wait "$stats_pid"; stats_rc=$?
set -e
lab_sflow_disable
[[ -s $(lab_err stats) ]] && sed 's/^/  stats stderr: /' "$(lab_err stats)" | head -20 >&2
((stats_rc == 0)) || fail "tusk sflow stats exited $stats_rc: $(head -c 400 "$(lab_out stats)")"
python3 - "$(lab_out stats)" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
try:
    st = json.loads(text)
except ValueError as e:
    print(f"FAIL: tusk sflow stats --format json did not print JSON ({e}): {text[:300]}", file=sys.stderr); sys.exit(1)
def find(o, key):
    """First value of KEY in the object tree (the totals come first or under a 'totals' key)."""
    if isinstance(o, dict):
        if "totals" in o and isinstance(o["totals"], dict) and key in o["totals"]:
            return o["totals"][key]
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r is not None:
                return r
    return None
dg, mal = find(st, "datagrams"), find(st, "malformed")
print(f"phase 2: tusk sflow stats: datagrams {dg}, malformed {mal}, flowSamples {find(st, 'flowSamples')}, "
      f"counterSamples {find(st, 'counterSamples')}, lostDatagrams {find(st, 'lostDatagrams')}")
bad = []
subs = [a for a in st.get("agents", []) if a.get("datagrams", 0) > 0]
print(f"phase 2: {len(subs)} sub-agents sent datagrams: " + ", ".join(f"{a['agent']}/{a['subAgent']}: {a['datagrams']}" for a in subs))
if len(subs) != 4: bad.append(f"{len(subs)} sub-agents sent datagrams, wanted 4 (one per bridge)")
if not isinstance(dg, int) or dg <= 0: bad.append(f"datagrams {dg}, wanted > 0")
if mal != 0: bad.append(f"malformed {mal}, wanted 0")
for b in bad: print("FAIL: phase 2: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
echo "ok: sFlow from Open vSwitch decoded by tusk ($mbps Mbit/s elephant)"
