#!/usr/bin/env bash
# A switch that refuses flow-mods: l1's table 0 is full (an OVS Flow_Table with flow_limit = the
# entries it holds and overflow_policy=refuse), so every elephant entry Tusk writes there is refused
# (OFPET_FLOW_MOD_FAILED / TABLE_FULL). Later the limit is raised.
#
# Lab: leaf-spine 2x2 with `tusk controller` (fabric links shaped to 100 Mbit/s, sFlow 1-in-100, 1 s
# rounds). Two iperf3 TCP elephants h1 -> h3 and h2 -> h4 on client ports that ECMP puts on the same
# uplink of l1 (found by a short probe under the ecmp policy), then the tusk policy, 24 s of traffic;
# the limit is raised at 12 s.
#
# Checks (from the decision log, l1's `dump-flows`, iperf3's JSON and Prometheus /metrics):
#   - while the table is full, decisions are logged `status: failed`, and l1 holds no elephant entry;
#   - the elephants stay on ECMP: neither flow stops for more than 2 s (four 0.5 s iperf3 intervals
#     in a row at 0: two TCP flows sharing one 100 Mbit/s uplink can lose a whole interval to a
#     retransmission timeout, which a flow sent nowhere would not recover from), and each carries
#     at least 5 Mbit/s on average while the table is full;
#   - each failure is counted (`tusk_elephant_install_failures_total` >= the failed decisions);
#   - later rounds go on (`tusk_control_rounds_total` grows, the flow is decided again after a failure);
#   - after the limit is raised, a decision is `installed` and l1 shows its entry (cookie 0x5453...).
# The check fails when the fault is missing: FLOW_LIMIT=0 leaves the table unlimited, and the first
# decision is installed at once ("no decision failed").
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-fault-flow-limit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkfm-}
LAB_STATIC_ARP=0
LAB_RATE=${LAB_RATE:-100mbit}
FLOW_LIMIT=${FLOW_LIMIT:-1}
SEED=${SEED:-3}
RUN_SECONDS=24
RAISE_AT=12
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"

lab_require iperf3 python3 curl
# The lab, the controller under ECMP, iperf3 servers on h3 and h4, colliding client ports c1, c2.
ctl_leaf_spine_experiment "$SEED"

# l1's table 0 full: the limit is what it holds now (the fabric), further adds are refused.
held=$(lab_ofctl l1 dump-flows table=0 | grep -c 'cookie=' || true)
if ((FLOW_LIMIT)); then
  ovs-vsctl --timeout=10 -- --id=@t create Flow_Table name=tusk-e2e-full flow_limit="$held" overflow_policy=refuse \
    -- set Bridge "$(lab_br l1)" flow_tables:0=@t >/dev/null
  table=$(ovs-vsctl --timeout=10 get Bridge "$(lab_br l1)" flow_tables:0)
  lab_log "l1 table 0 limited to the $held entries it holds (Flow_Table $table, overflow_policy=refuse)"
fi

ctl_reload "$policy" tusk || fail "policy reload to tusk not logged"
decided_before=$(wc -l <"$decisions")
rounds0=$(ctl_metric "$http" tusk_control_rounds_total)
start=$(date +%s.%N)
lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport "$c1" -t "$RUN_SECONDS" -i 0.5 -J >"$LAB_DIR/h1.json" &
p1=$!
lab_exec h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport "$c2" -t "$RUN_SECONDS" -i 0.5 -J >"$LAB_DIR/h2.json" &
p2=$!
# While the table is full: l1's elephant entries every second.
: >"$LAB_DIR/l1.ts.full"
for ((i = 0; i < RAISE_AT - 1; i++)); do
  sleep 1
  ctl_ts_entries l1 >>"$LAB_DIR/l1.ts.full"
done
sleep 1
failures_full=$(ctl_metric "$http" tusk_elephant_install_failures_total)
rounds_full=$(ctl_metric "$http" tusk_control_rounds_total)
raised=$(date +%s.%N)
if ((FLOW_LIMIT)); then
  ovs-vsctl --timeout=10 set Flow_Table "$table" flow_limit=1000000
  lab_log "l1 table 0 limit raised at ${RAISE_AT} s"
fi
placed=""
deadline=$((SECONDS + RUN_SECONDS - RAISE_AT - 2))
while ((SECONDS < deadline)); do
  if [[ -n $(ctl_ts_entries l1) ]]; then placed=$(date +%s.%N); ctl_ts_entries l1 >"$LAB_DIR/l1.ts.raised"; break; fi
  sleep 0.5
done
wait "$p1" || fail "iperf3 h1 -> h3 failed: $(tail -c 300 "$LAB_DIR/h1.json")"
wait "$p2" || fail "iperf3 h2 -> h4 failed: $(tail -c 300 "$LAB_DIR/h2.json")"
failures_end=$(ctl_metric "$http" tusk_elephant_install_failures_total)
tail -n +"$((decided_before + 1))" "$decisions" >"$LAB_DIR/run.decisions"
kill -0 "$tusk_pid" || fail "tusk controller died"

python3 - "$LAB_DIR" "$start" "$raised" "${placed:-0}" "$failures_full" "$failures_end" "$rounds0" "$rounds_full" <<'EOF' || fail "flow-limit checks failed"
import json, sys
lab, start, raised, placed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
failures_full, failures_end, rounds0, rounds_full = map(int, sys.argv[5:9])
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
ds = [json.loads(l) for l in open(f"{lab}/run.decisions") if l.strip()]
full = [d for d in ds if d["time"] < raised]
after = [d for d in ds if d["time"] >= raised]
failed = [d for d in full if d["status"] == "failed"]
check(len(failed) >= 1, f"{len(failed)} of {len(full)} decisions failed while l1's table was full"
      + (f" (first {failed[0]['time'] - start:.1f} s after the flows started: {failed[0].get('error', '?')})" if failed else ""))
check(not any(d["status"] == "installed" for d in full), "no decision installed while the table was full")
check(len(failed) >= 2, f"later rounds went on: the flow was decided again after a failure ({len(failed)} failed decisions)")
check(rounds_full > rounds0, f"control rounds went on while the table was full ({rounds_full - rounds0} rounds)")
all_failed = [d for d in ds if d["status"] == "failed"]
check(failures_end >= len(all_failed), f"counted: tusk_elephant_install_failures_total {failures_end} >= {len(all_failed)} failed decisions "
      f"({failures_full} when the limit was raised)")
held = open(f"{lab}/l1.ts.full").read().strip()
check(held == "", "l1 held no elephant entry while its table was full")
for name in ("h1", "h2"):
    r = json.load(open(f"{lab}/{name}.json"))
    ivs = [i["sum"]["bits_per_second"] / 1e6 for i in r["intervals"]]
    t0 = r["start"]["timestamp"]["timesecs"]
    before = [i["sum"]["bits_per_second"] / 1e6 for i in r["intervals"] if t0 + i["sum"]["start"] < raised]
    stopped, longest = 0, 0
    for v in ivs:
        stopped = stopped + 1 if v <= 0 else 0
        longest = max(longest, stopped)
    full_mean = sum(before) / max(1, len(before))
    check(longest <= 4 and full_mean >= 5, f"{name}: {len(ivs)} intervals, lowest {min(ivs):.1f} Mbit/s, "
          f"{longest} in a row at 0, mean while full {full_mean:.1f} Mbit/s (on ECMP)")
def mean(name, lo, hi):
    r = json.load(open(f"{lab}/{name}.json"))
    t0 = r["start"]["timestamp"]["timesecs"]
    v = [i["sum"]["bits_per_second"] / 1e6 for i in r["intervals"] if lo <= t0 + i["sum"]["start"] < hi]
    return sum(v) / max(1, len(v))
if placed > 0:
    print(f"both flows together: {mean('h1', start + 2, raised) + mean('h2', start + 2, raised):.1f} Mbit/s on ECMP while the table "
          f"was full, {mean('h1', placed + 1, 1e12) + mean('h2', placed + 1, 1e12):.1f} Mbit/s once placed")
inst = [d for d in after if d["status"] == "installed"]
check(len(inst) >= 1 and placed > 0, "after the limit was raised a decision was installed "
      + (f"{inst[0]['confirmedTime'] - raised:.1f} s later, and l1 showed its entry {placed - raised:.1f} s after the raise"
         if inst and placed > 0 else f"(decisions after: {[d['status'] for d in after]})"))
sys.exit(0 if ok else 1)
EOF
cat "$LAB_DIR/l1.ts.raised"
echo "ok: a switch refusing flow-mods: decisions failed, traffic stayed on ECMP, placed once the limit was raised"
