#!/usr/bin/env bash
# The sFlow stream stops (every bridge's sFlow row cleared) for longer than the estimates' age-out, then
# comes back, while elephants placed by `tusk controller` keep running.
#
# Lab: leaf-spine 2x2 with `tusk controller` (fabric links shaped to 100 Mbit/s, sFlow 1-in-100 with
# 2 s polling, 1 s rounds, elephant idle timeout 5 s). Two iperf3 TCP elephants h1 -> h3 and h2 -> h4
# on client ports that ECMP puts on the same uplink of l1 (a short probe under the ecmp policy), then
# the tusk policy: once a decision is installed, sFlow is cleared on every bridge for OFF_SECONDS (16),
# then enabled again; the flows run on for 14 s more.
#
# Checks (from the decision log, l1's `dump-flows` every second, iperf3's JSON and /metrics):
#   - no move on stale data: no decision is logged while sFlow is off, and the elephant entries on l1
#     are the same entries throughout (same cookies and actions, packet counts only growing: never
#     rewritten);
#   - the estimates did age out (the mechanism was exercised): `tusk_elephants` fell to 0 while sFlow was off;
#   - placements are kept until their idle timeout: l1 holds the entries all through the outage (the
#     flows still hit them), and they are gone within idle timeout + 3 s after the flows end;
#   - detection resumes: after sFlow returns, `tusk_elephants` is back above 0;
#   - traffic never stops: no 0.5 s iperf3 interval at 0.
# The check fails when the fault is missing: SFLOW_STOP=0 leaves sFlow on, and `tusk_elephants` never
# falls to 0 ("the estimates did not age out").
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-fault-sflow-stop.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkfs-}
LAB_STATIC_ARP=0
LAB_RATE=${LAB_RATE:-100mbit}
SFLOW_STOP=${SFLOW_STOP:-1}
OFF_SECONDS=${OFF_SECONDS:-16}
SEED=${SEED:-3}
IDLE_TIMEOUT=5
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"

lab_require iperf3 python3 curl
# The lab, the controller under ECMP, iperf3 servers on h3 and h4, colliding client ports c1, c2.
ctl_leaf_spine_experiment "$SEED"

ctl_reload "$policy" tusk || fail "policy reload to tusk not logged"
run=$((15 + OFF_SECONDS + 14))
start=$(date +%s.%N)
lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport "$c1" -t "$run" -i 0.5 -J >"$LAB_DIR/h1.json" &
p1=$!
lab_exec h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport "$c2" -t "$run" -i 0.5 -J >"$LAB_DIR/h2.json" &
p2=$!
# Wait for a placement (an installed decision and its entry on l1).
deadline=$((SECONDS + 15))
until grep -q '"status":"installed"' "$decisions" 2>/dev/null && [[ -n $(ctl_ts_entries l1) ]]; do
  ((SECONDS < deadline)) || fail "no elephant was placed within 15 s of the flows starting"
  sleep 0.5
done
sleep 1
ctl_ts_entries l1 >"$LAB_DIR/ts.before"
elephants_on=$(ctl_metric "$http" tusk_elephants)
off_at=$(date +%s.%N)
((SFLOW_STOP)) && lab_sflow_disable
lab_log "sFlow off on every bridge for $OFF_SECONDS s ($(wc -l <"$LAB_DIR/ts.before") elephant entries on l1, tusk_elephants $elephants_on)"
: >"$LAB_DIR/ts.off"; : >"$LAB_DIR/elephants.off"
for ((i = 0; i < OFF_SECONDS; i++)); do
  sleep 1
  { echo "--- $(date +%s.%N)"; ctl_ts_entries l1; } >>"$LAB_DIR/ts.off"
  echo "$(date +%s.%N) $(ctl_metric "$http" tusk_elephants)" >>"$LAB_DIR/elephants.off"
done
on_at=$(date +%s.%N)
((SFLOW_STOP)) && lab_sflow_enable "$sfport" 100 2
lab_log "sFlow on again"
resumed=""
deadline=$((SECONDS + 12))
while ((SECONDS < deadline)); do
  if (($(ctl_metric "$http" tusk_elephants) > 0)); then resumed=$(date +%s.%N); break; fi
  sleep 0.5
done
wait "$p1" || fail "iperf3 h1 -> h3 failed: $(tail -c 300 "$LAB_DIR/h1.json")"
wait "$p2" || fail "iperf3 h2 -> h4 failed: $(tail -c 300 "$LAB_DIR/h2.json")"
ended=$(date +%s.%N)
# Idle timeout on the switch: the entries go once the flows have stopped.
gone=""
deadline=$((SECONDS + IDLE_TIMEOUT + 3))
while ((SECONDS < deadline)); do
  if [[ -z $(ctl_ts_entries l1) ]]; then gone=$(date +%s.%N); break; fi
  sleep 0.5
done
kill -0 "$tusk_pid" || fail "tusk controller died"

python3 - "$LAB_DIR" "$start" "$off_at" "$on_at" "${resumed:-0}" "$ended" "${gone:-0}" <<'EOF' || fail "sFlow-stop checks failed"
import json, re, sys
lab = sys.argv[1]
start, off_at, on_at, resumed, ended, gone = map(float, sys.argv[2:8])
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
ds = [json.loads(l) for l in open(f"{lab}/decisions.jsonl") if l.strip()]
during = [d for d in ds if off_at <= d["time"] < on_at]
check(not during, f"no decision while sFlow was off ({len(during)} logged: {[d['status'] for d in during]})")
def entries(text):
    out = {}
    for line in text.splitlines():
        m = re.search(r"cookie=(0x[0-9a-f]+).*n_packets=(\d+).*?(priority=\S+?),.*actions=(\S+)", line)
        if m:
            out[(m.group(1), m.group(3))] = (int(m.group(2)), m.group(4))
    return out
before = entries(open(f"{lab}/ts.before").read())
snaps = [entries(s) for s in open(f"{lab}/ts.off").read().split("--- ")[1:]]
check(len(before) >= 1, f"{len(before)} elephant entries on l1 when sFlow stopped")
same = all(set(s) == set(before) and all(s[k][1] == before[k][1] for k in s) for s in snaps)
check(same, f"l1 held the same elephant entries (cookies, actions) in all {len(snaps)} snapshots while sFlow was off")
grow = True
prev = before
for s in snaps:
    for k in s:
        if k in prev and s[k][0] < prev[k][0]:
            grow = False
    prev = s
first, last = snaps[0] if snaps else {}, snaps[-1] if snaps else {}
moved = sum(last[k][0] - before[k][0] for k in last if k in before)
check(grow, f"their packet counts only grew (never rewritten): +{moved} packets on them while sFlow was off")
el = [(float(t), int(v)) for t, v in (l.split() for l in open(f"{lab}/elephants.off") if l.strip())]
zero = [t for t, v in el if v == 0]
check(bool(zero), "the estimates aged out: tusk_elephants fell to 0 "
      + (f"{zero[0] - off_at:.1f} s after sFlow stopped" if zero else f"(never did: {[v for _, v in el]})"))
check(resumed > 0, "detection resumed: tusk_elephants > 0 "
      + (f"{resumed - on_at:.1f} s after sFlow returned" if resumed > 0 else "never, within 12 s"))
check(gone > 0, "the entries idled out on l1 after the flows ended "
      + (f"({gone - ended:.1f} s after)" if gone > 0 else "(still there after the idle timeout + 3 s)"))
for name in ("h1", "h2"):
    r = json.load(open(f"{lab}/{name}.json"))
    t0 = r["start"]["timestamp"]["timesecs"]
    ivs = [(t0 + i["sum"]["start"], i["sum"]["bits_per_second"] / 1e6) for i in r["intervals"]]
    off = [v for t, v in ivs if off_at <= t < on_at]
    check(min(v for _, v in ivs) > 0, f"{name}: lowest 0.5 s interval {min(v for _, v in ivs):.1f} Mbit/s; "
          f"mean while sFlow was off {sum(off) / max(1, len(off)):.1f} Mbit/s")
sys.exit(0 if ok else 1)
EOF
echo "ok: sFlow stopped and returned under placed elephants"
