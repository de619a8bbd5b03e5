#!/usr/bin/env bash
# ovs-vswitchd restarts under traffic with an elephant placed: every OpenFlow table is gone when it
# comes back. Promise: the sessions come back, the fabric is reconciled, and the elephant is placed
# again within 2 control intervals of its switch's session returning; traffic flows again.
#
# Lab: leaf-spine 2x2 (100 Mbit/s fabric links, sFlow 1-in-100, 1 s rounds) with `tusk controller`.
# Two iperf3 TCP elephants h1 -> h3 and h2 -> h4 on client ports that ECMP collides, until Tusk
# places one (an elephant entry on l1). Then `ovs-appctl exit` stops ovs-vswitchd (its flow tables
# and groups die with it) and `ovs-ctl --no-ovsdb-server start` starts it again from the database.
#
# Checks, from the switches and iperf3's JSON (not Tusk's log):
#   - right after the restart l1 holds no elephant entry and no group (the tables really were lost;
#     l1's controller is taken off for that read and put back at once, the other bridges reconnect
#     by themselves);
#   - every bridge's SELECT groups equal `show-fabric`'s again;
#   - l1 holds exactly one elephant entry again, with the match and output it had before, within
#     2 control intervals (2 s) of l1's controller connection being up again (ovsdb `is_connected`);
#   - both iperf3 flows carry traffic again after the restart; the controller keeps running.
# The check fails when the mechanism is missing: a controller that does not reconcile a switch that
# comes back (or forgets its placements) leaves the tables empty (no groups: no forwarding at all).
#
# This test restarts the Open vSwitch daemon every lab shares: it refuses to run while other labs'
# bridges exist.
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-fault-vswitchd-restart.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkvr-}
LAB_STATIC_ARP=0
LAB_RATE=${LAB_RATE:-100mbit}
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"

lab_require iperf3 python3
lab_init
others=$(ovs-vsctl --timeout=10 list-br | { grep -v "^$LAB_PREFIX" || true; })
[[ -z $others ]] || fail "other bridges exist ($(echo "$others" | tr '\n' ' ')); restarting ovs-vswitchd would disturb them"
lab_leaf_spine
topo=$repo/topologies/leaf-spine-2x2.yaml
"$TUSK_BIN" controller show-fabric --topology "$topo" >"$LAB_DIR/fabric.txt"
for h in h1 h2 h3 h4; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done
ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
policy=$LAB_DIR/policy.yaml
ctl_policy "$policy" tusk
ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" --echo-interval 2 \
  --decisions "$LAB_DIR/decisions.jsonl" || fail "controller did not start"
ctl_connect "$ofport"
ctl_wait_reconciled 30 || fail "switches not reconciled"
lab_sflow_enable "$sfport" 100 2
lab_ping_all >/dev/null || fail "hosts do not reach each other"
lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
lab_wait_listen tcp 5201 h4 10 || fail "iperf3 server on h4"

ctl_place_elephant 40 || fail "no elephant placed"
sleep 2
before=$(ctl_ts_entries l1)
[[ $(echo "$before" | wc -l) == 1 ]] || fail "expected one elephant entry on l1, got: $before"
match=$(echo "$before" | grep -o 'priority=.*actions=output:[0-9]*')
lab_log "placed: $match"

groups_match() {  # SWITCH: its SELECT groups equal show-fabric's
  local want got
  want=$(awk -v s="$1" '$1 == "group" && $2 == s {print $4, $6}' "$LAB_DIR/fabric.txt" | sort)
  got=$(lab_ofctl "$1" dump-groups 2>/dev/null | { grep -o 'group_id=[0-9]*.*' || true; } | \
        awk '{id = $1; sub("group_id=", "", id); sub(",.*", "", id); line = ""; while (match($0, /output:[0-9]+/)) { p = substr($0, RSTART + 7, RLENGTH - 7); if (index("," line ",", "," p ",") == 0) line = line (line == "" ? "" : ",") p; $0 = substr($0, RSTART + RLENGTH) } print id, line}' | sort)
  [[ $want == "$got" ]]
}
connected() {  # SWITCH: its controller connection is up (ovsdb)
  [[ $(ovs-vsctl --timeout=5 get controller "$(lab_br "$1")" is_connected 2>/dev/null) == true ]]
}
now() { date +%s.%N; }

restart_at=$(now)
# The controller's address stays in the database, so l1 would reconnect as soon as the daemon is
# up: l1's controller is taken off while the daemon is down, to read the table the restart left.
lab_restart_vswitchd "ovs-vsctl --no-wait --timeout=10 del-controller $(lab_br l1)" \
  || fail "ovs-vswitchd did not start again (lock not free within 60 s, or ovs-ctl failed)"
up_at=$(now)
# The tables are gone: nothing from before survives the restart.
l1_groups_after=$(lab_ofctl l1 dump-groups | grep -c group_id || true)
l1_ts_after=$(ctl_ts_entries l1 | grep -c . || true)
l1_flows_after=$(lab_ofctl l1 dump-flows | grep -c cookie= || true)
lab_log "ovs-vswitchd back after $(python3 -c "print(round($up_at - $restart_at, 2))") s; l1 then held $l1_flows_after entries, $l1_groups_after groups, $l1_ts_after elephant entries"
((l1_groups_after == 0 && l1_ts_after == 0)) || fail "l1's tables survived the restart: nothing to recover from"
up_at=$(now)   # from here: l1 may connect again
ctl_connect "$ofport"

connected_at="" fabric_at="" placed_at=""
deadline=$((SECONDS + 30))
while [[ -z $placed_at || -z $fabric_at ]]; do
  ((SECONDS < deadline)) || break
  t=$(now)
  [[ -z $connected_at ]] && connected l1 && connected_at=$t
  if [[ -z $fabric_at ]]; then
    ok=1
    for s in "${LAB_SWITCHES[@]}"; do groups_match "$s" || { ok=0; break; }; done
    ((ok)) && fabric_at=$t
  fi
  [[ -z $placed_at && -n $(ctl_ts_entries l1) ]] && placed_at=$t
  sleep 0.1
done
[[ -n $connected_at ]] || connected_at=$up_at
rel() { python3 -c "print(round($1 - $2, 2))"; }
lab_log "after the restart: l1 connected at +$(rel "$connected_at" "$up_at") s, fabric equal on every bridge at +$(rel "${fabric_at:-$t}" "$up_at") s, elephant entry on l1 at +$(rel "${placed_at:-$t}" "$up_at") s (from ovs-vswitchd up)"
[[ -n $fabric_at ]] || fail "the fabric was not reconciled within 30 s of the restart"
[[ -n $placed_at ]] || fail "the elephant was not placed again within 30 s of the restart"
after=$(ctl_ts_entries l1)
[[ $(echo "$after" | wc -l) == 1 ]] || fail "l1 holds $(echo "$after" | grep -c .) elephant entries after the restart: $after"
[[ $(echo "$after" | grep -o 'priority=.*actions=output:[0-9]*') == "$match" ]] || fail "the entry differs: $after (was $match)"
python3 -c "import sys; sys.exit(0 if $placed_at - $connected_at <= 2.0 else 1)" || \
  fail "the elephant came back $(rel "$placed_at" "$connected_at") s after l1's session, more than 2 control intervals"

wait "${CTL_IPERF_PIDS[@]}" || fail "iperf3 failed"
python3 - "$LAB_DIR" "$restart_at" <<'EOF' || fail "traffic did not come back after the restart"
import json, sys
lab, restart_at = sys.argv[1], float(sys.argv[2])
bad = False
for h in ("h1", "h2"):
    r = json.load(open(f"{lab}/{h}.json"))
    start = r["start"]["timestamp"]["timesecs"]
    ivs = [(start + i["sum"]["start"], i["sum"]["bits_per_second"] / 1e6) for i in r["intervals"]]
    after = [(t - restart_at, v) for t, v in ivs if t >= restart_at]
    first_back = next((t for t, v in after if v >= 5), None)
    low = sum(1 for _, v in after if v < 1)
    tail = [v for t, v in after[-6:]]
    print(f"{h}: after the restart {len(after)} intervals, {low} below 1 Mbit/s, back above 5 Mbit/s at +{first_back if first_back is None else round(first_back, 1)} s, last 3 s mean {sum(tail) / max(1, len(tail)):.1f} Mbit/s")
    bad |= first_back is None or sum(tail) / max(1, len(tail)) < 5
sys.exit(1 if bad else 0)
EOF
kill -0 "$CTL_PID" || fail "controller died"
echo "ok: ovs-vswitchd restarted under traffic; fabric reconciled and the elephant placed again"
