#!/usr/bin/env bash
# Controller restarts with elephants placed, on Open vSwitch (leaf-spine 2x2, 100 Mbit/s fabric links,
# sFlow 1-in-100 to Tusk).
#
#  1. Two iperf3 TCP elephants h1 -> h3 and h2 -> h4 whose client ports make ECMP put both on one spine
#     (pairs are tried until Tusk places one: an elephant entry appears on l1).
#  2. `kill -9` of the controller, restart with the same policy: the entry the switch still holds is
#     adopted. Checked on the switch: one entry, the same match and output, its duration running on
#     from before the kill (not written again), and no decision for that flow in the new run's log;
#     from iperf3: no 0.5 s interval at 0 in either flow.
#  3. `kill -9` again, restart with `selector.algorithm: ecmp`: the placement the new policy does not
#     want is strict-deleted: l1 holds no elephant entry within a few seconds, traffic goes on.
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-elephants-restart.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tker-}
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
for h in h1 h2 h3 h4; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done
ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
policy=$LAB_DIR/policy.yaml
ctl_policy "$policy" tusk
args=(--topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" --echo-interval 2)
ctl_start "${args[@]}" --decisions "$LAB_DIR/decisions-1.jsonl" || fail "controller did not start"
ctl_connect "$ofport"
ctl_wait_reconciled 30 || fail "switches not reconciled"
lab_sflow_enable "$sfport" 100 2
lab_ping_all >/dev/null || fail "hosts do not reach each other"
lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
lab_wait_listen tcp 5201 h4 10 || fail "iperf3 server on h4"

# 0. A policy file with an error is refused (file:line in the log), and the old policy stays in force.
cp "$policy" "$policy.good"
printf 'selector:\n  algorithm: tusk\n  control-interval: -1s\n' >"$policy"
kill -HUP "$CTL_PID"
deadline=$((SECONDS + 10))
until grep -q 'policy reload refused' "$LAB_DIR/tusk.err"; do
  ((SECONDS < deadline)) || fail "an invalid policy was not refused"
  sleep 0.2
done
grep 'policy reload refused' "$LAB_DIR/tusk.err" | head -1 | grep -q "$policy:[0-9]" || fail "the refusal names no file:line: $(grep 'policy reload refused' "$LAB_DIR/tusk.err" | head -1)"
cp "$policy.good" "$policy"
lab_log "invalid policy refused: $(grep -o 'error=.*' "$LAB_DIR/tusk.err" | head -1)"

# 1. Find a pair of client ports that ECMP collides and Tusk places (the old policy still in force).
ctl_place_elephant 45 || fail "no elephant placed"
p1=${CTL_IPERF_PIDS[0]}; p2=${CTL_IPERF_PIDS[1]}
sleep 2
before=$(ctl_ts_entries l1)
[[ $(echo "$before" | wc -l) == 1 ]] || fail "expected one elephant entry on l1, got: $before"
match=$(echo "$before" | grep -o 'priority=.*actions=output:[0-9]*')
lab_log "placed: $match"

# 2. kill -9 and restart with the same policy: adopted.
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null || true
killed_at=$(date +%s.%N)
sleep 2
ctl_start "${args[@]}" --decisions "$LAB_DIR/decisions-2.jsonl" || fail "controller did not restart"
ctl_wait_reconciled 30 || fail "switches not reconciled after the restart"
sleep 5
after=$(ctl_ts_entries l1)
[[ $(echo "$after" | wc -l) == 1 ]] || fail "after the restart l1 holds $(echo "$after" | grep -c . || true) elephant entries: $after"
[[ $(echo "$after" | grep -o 'priority=.*actions=output:[0-9]*') == "$match" ]] || fail "the entry changed: $after (was $match)"
dur=$(echo "$after" | grep -o 'duration=[0-9.]*' | cut -d= -f2)
since=$(python3 -c "import time; print(round(time.time() - $killed_at, 1))")
python3 -c "import sys; sys.exit(0 if $dur > $since + 1 else 1)" || fail "the entry is $dur s old, but the kill was $since s ago: it was written again"
grep -q 'adopted an elephant placement' "$LAB_DIR/tusk.err" || fail "the restarted controller did not log the adoption"
sport=$(echo "$after" | grep -o 'tp_src=[0-9]*' | cut -d= -f2)
if grep -q "\"sport\":$sport," "$LAB_DIR/decisions-2.jsonl" 2>/dev/null; then fail "the adopted flow was decided again (a flap): $(cat "$LAB_DIR/decisions-2.jsonl")"; fi
lab_log "after kill -9 and restart: the same entry, $dur s old (kill $since s ago), adopted, no new decision for it"

# 3. A dry run keeps the adopted placement and writes nothing; then a restart with a policy that moves
#    nothing: the placement is withdrawn.
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null || true
ctl_start "${args[@]}" --dry-run --decisions "$LAB_DIR/decisions-dry.jsonl" || fail "controller did not restart (dry run)"
ctl_wait_reconciled 30 || fail "switches not reconciled after the dry-run restart"
sleep 4
[[ $(ctl_ts_entries l1 | grep -o 'priority=.*actions=output:[0-9]*') == "$match" ]] || fail "the dry run changed l1's elephant entries: $(ctl_ts_entries l1)"
lab_log "dry run: l1's elephant entry untouched"
ctl_policy "$policy" ecmp
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null || true
sleep 1
ctl_start "${args[@]}" --decisions "$LAB_DIR/decisions-3.jsonl" || fail "controller did not restart"
ctl_wait_reconciled 30 || fail "switches not reconciled after the second restart"
deadline=$((SECONDS + 10))
until [[ -z $(ctl_ts_entries l1) ]]; do
  ((SECONDS < deadline)) || fail "the placement the new policy does not want is still on l1: $(ctl_ts_entries l1)"
  sleep 0.5
done
lab_log "after a restart with algorithm ecmp, l1 holds no elephant entry"
wait "$p1" || fail "iperf3 h1 failed"
wait "$p2" || fail "iperf3 h2 failed"
python3 - "$LAB_DIR" <<'EOF' || fail "traffic stopped during a restart"
import json, sys
bad = False
for h in ("h1", "h2"):
    r = json.load(open(f"{sys.argv[1]}/{h}.json"))
    v = [i["sum"]["bits_per_second"] / 1e6 for i in r["intervals"]]
    zero = sum(1 for x in v if x < 1)
    print(f"{h}: {len(v)} intervals, lowest {min(v):.1f} Mbit/s, {zero} below 1 Mbit/s")
    bad |= zero > 0
sys.exit(1 if bad else 0)
EOF
kill -0 "$CTL_PID" || fail "controller died"
echo "ok: restarts adopt placements and withdraw the ones a new policy does not want"
