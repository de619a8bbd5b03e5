#!/usr/bin/env bash
# A fabric link goes down under traffic, then comes back: traffic must be back within 1 s in both
# directions, and the fabric must use the link again afterwards.
#
# Lab: leaf-spine 2x2 with `tusk controller` (fabric links shaped to 100 Mbit/s). Two iperf3 TCP flows
# run for 24 s: h1 -> h3 and h3 -> h1. After 8 s, the link between l1 and the spine that carries the
# h3 -> h1 flow (read from l2's port counters) is set down: `ip link set ... down` on both veth ends
# (Open vSwitch reports the port down to Tusk). l1's own SELECT group skips its dead port by itself,
# but l2 only stops sending to that spine if Tusk recomputes the fabric and rewrites l2's group: that
# is what the reverse flow needs. At 16 s the link comes back up.
#
# Checks, from iperf3's JSON (receiver side) and the switches' tables:
#   - after the link goes down, each flow has at most two 0.5 s intervals below 5 Mbit/s (back within 1 s);
#   - while it is down, l2's entry toward h1 no longer uses the dead spine (dump-flows/dump-groups);
#   - after it is up again, every bridge holds exactly the fabric `show-fabric` lists (both spines used);
#   - the controller keeps running.
# The check fails when the mechanism is missing: run against a build without the fabric recompute
# (SFLOW_ARGS= for a build that has no --sflow flag), the reverse flow stops and never comes back.
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-fault-link-down.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkfl-}
LAB_STATIC_ARP=0
LAB_RATE=${LAB_RATE:-100mbit}
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"


lab_require iperf3 python3
lab_init
lab_leaf_spine
topo=$repo/topologies/leaf-spine-2x2.yaml
"$TUSK_BIN" controller show-fabric --topology "$topo" >"$LAB_DIR/fabric.txt"

ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
read -r -a sflow_args <<<"${SFLOW_ARGS-"--sflow 127.0.0.1:$sfport"}"
ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" "${sflow_args[@]}" --echo-interval 2 || fail "tusk controller did not start"
tusk_pid=$CTL_PID
ctl_connect "$ofport"
ctl_wait_reconciled 30 || fail "the switches were not reconciled within 30 s"
lab_ping_all >/dev/null || fail "hosts do not reach each other through the fabric"

txbytes() { ctl_txbytes "$@"; }

lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_bg srv1 h1 iperf3 -s -B "$(lab_ip h1)" -p 5202
lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
lab_wait_listen tcp 5202 h1 10 || fail "iperf3 server on h1"
a3=$(txbytes l2 3); a4=$(txbytes l2 4)
lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 -t 24 -i 0.5 -J >"$LAB_DIR/fwd.json" &
pf=$!
lab_exec h3 iperf3 -c "$(lab_ip h1)" -p 5202 -t 24 -i 0.5 -J >"$LAB_DIR/rev.json" &
pr=$!
sleep 6
b3=$(txbytes l2 3); b4=$(txbytes l2 4)
# The spine the reverse flow (l2 -> spine -> l1) uses: l2 port 3 is s1, port 4 is s2.
if (( b3 - a3 > b4 - a4 )); then spine=s1; l1port=3; sport=1; else spine=s2; l1port=4; sport=1; fi
lab_log "h3 -> h1 goes through $spine; taking the link l1:$l1port - $spine:$sport down at 8 s"
sleep 2
down_at=$(date +%s.%N)
ip link set "$(lab_if l1 "$l1port")" down
ip link set "$(lab_if "$spine" "$sport")" down
sleep 3
lab_ofctl l2 dump-flows >"$LAB_DIR/l2.flows.down"
lab_ofctl l2 dump-groups >"$LAB_DIR/l2.groups.down"
sleep 5
up_at=$(date +%s.%N)
ip link set "$(lab_if l1 "$l1port")" up
ip link set "$(lab_if "$spine" "$sport")" up
wait "$pf" || fail "iperf3 h1 -> h3 failed: $(tail -c 300 "$LAB_DIR/fwd.json")"
wait "$pr" || fail "iperf3 h3 -> h1 failed: $(tail -c 300 "$LAB_DIR/rev.json")"
sleep 2

python3 - "$LAB_DIR" "$down_at" "$up_at" <<'EOF' || fail "traffic did not come back within 1 s"
import json, sys
lab, down_at, up_at = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
bad = False
for name in ("fwd", "rev"):
    r = json.load(open(f"{lab}/{name}.json"))
    start = r["start"]["timestamp"]["timesecs"]
    ivs = [(start + i["sum"]["start"], i["sum"]["bits_per_second"] / 1e6) for i in r["intervals"]]
    after = [(t, v) for t, v in ivs if t >= down_at - 0.5 and t < up_at]
    low = [round(v, 1) for t, v in after if v < 5]
    print(f"{name}: {len(after)} intervals while the link was down, {len(low)} below 5 Mbit/s: "
          + " ".join(f"{v:.0f}" for _, v in after))
    if len(low) > 2:
        bad = True
sys.exit(1 if bad else 0)
EOF
# While down: l2 sent toward h1 only through the other spine.
other=$([[ $spine == s1 ]] && echo 4 || echo 3)
grep -q "nw_dst=$(lab_ip h1) .*actions=output:$other\$" "$LAB_DIR/l2.flows.down" || \
  fail "l2's entry toward h1 still uses the dead spine: $(grep "nw_dst=$(lab_ip h1) " "$LAB_DIR/l2.flows.down")"
lab_log "while l1-$spine was down, l2 sent toward h1 by output:$other only"
# Up again: the full fabric, both spines.
sleep 2
for s in "${LAB_SWITCHES[@]}"; do
  want=$(awk -v s="$s" '$1 == "group" && $2 == s {print $4, $6}' "$LAB_DIR/fabric.txt" | sort)
  got=$(lab_ofctl "$s" dump-groups | { grep -o 'group_id=[0-9]*.*' || true; } | \
        awk '{id = $1; sub("group_id=", "", id); sub(",.*", "", id); line = ""; while (match($0, /output:[0-9]+/)) { p = substr($0, RSTART + 7, RLENGTH - 7); if (index("," line ",", "," p ",") == 0) line = line (line == "" ? "" : ",") p; $0 = substr($0, RSTART + RLENGTH) } print id, line}' | sort)
  [[ $want == "$got" ]] || fail "$s: groups after the link came back differ from the fabric: want '$want' got '$got'"
done
kill -0 "$tusk_pid" || fail "tusk controller died"
echo "ok: fabric link down and up under traffic"
