#!/usr/bin/env bash
# The closed loop on a k=4 fat-tree of Open vSwitch bridges (20 switches, 16 hosts), against ECMP on the
# same flows, with the simulator's prediction for the same flows and link speeds beside it.
#
# Every link (fabric and host) is shaped to RATE (10 Mbit/s: 16 flows over five hops each must fit in
# this machine's two cores). Two of Hedera's patterns, one long-lived iperf3 TCP flow per host:
#   - stride(4): host i sends to host i+4 (mod 16), every flow crosses the core;
#   - a bijection: the simulator's own seeded permutation (seed 1), so both sides run the same pairs.
# Each pattern runs RUN_SECONDS with `selector.algorithm: ecmp`, then with `tusk` (policy reloaded by
# SIGHUP, the analytics left to forget the flows in between). Throughput is the mean over the last
# 10 s of all 16 flows (iperf3, receiver side), normalised to 16 x RATE (what a non-blocking switch gives).
# The simulator runs `tusk simulate` on the same topology with the same link speeds: ECMP (its own
# hash: 5 seeds, mean and range) and tusk, for the same patterns.
#
# Checks: Tusk beats ECMP on each pattern (lab figures). Reported: the table, and where the lab and
# the simulator's prediction differ by more than 15 %.
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-elephants-fat-tree.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkef-}
LAB_STATIC_ARP=0
RATE=${RATE:-10mbit}
LAB_RATE=$RATE
LAB_HOST_RATE=$RATE
RUN_SECONDS=${RUN_SECONDS:-20}
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"
# shellcheck source=lib/controller.sh
source "$here/lib/controller.sh"


lab_require iperf3 python3
lab_init
lab_fat_tree
bits=$(_lab_rate_bits "$RATE")
mbit=$((bits / 1000000))
topo=$LAB_DIR/fat-tree-k4.yaml
sed "s/capacity: 1G/capacity: ${mbit}M/" "$repo/topologies/fat-tree-k4.yaml" >"$topo"
for h in "${LAB_HOSTS[@]}"; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done

ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
policy=$LAB_DIR/policy.yaml
ctl_policy "$policy" ecmp
ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" \
  --decisions "$LAB_DIR/decisions.jsonl" --echo-interval 2 || fail "tusk controller did not start"
ctl_connect "$ofport"
ctl_wait_reconciled 60 || fail "the switches were not reconciled within 60 s"
lab_sflow_enable "$sfport" 100 2
for h in "${LAB_HOSTS[@]}"; do lab_bg "srv-$h" "$h" iperf3 -s -B "$(lab_ip "$h")" -p 5201; done
for h in "${LAB_HOSTS[@]}"; do lab_wait_listen tcp 5201 "$h" 10 || fail "iperf3 server on $h"; done

# The patterns' pairs: stride(4), and the simulator's bijection for seed 1 (flows.csv: src,dst host indices).
"$TUSK_BIN" simulate --topology "$topo" --workload bijection --scheduler ecmp --seeds 1 --duration 2 --no-progress \
  --report "$LAB_DIR/sim-pairs" >/dev/null
declare -A pairs
pairs[stride]=$(for i in $(seq 0 15); do echo "$i $(((i + 4) % 16))"; done)
pairs[bijection]=$(awk -F, 'NR > 1 {print $5, $6}' "$LAB_DIR/sim-pairs/flows.csv")

# run PATTERN ALGORITHM: all 16 flows at once; JSON per flow in LAB_DIR/PATTERN-ALGORITHM-N.json.
run() {
  local pattern=$1 alg=$2 src dst pids=() n=0
  while read -r src dst; do
    lab_exec "h$src" iperf3 -c "$(lab_ip "h$dst")" -p 5201 --cport $((30000 + src)) -t "$RUN_SECONDS" -i 0.5 -J \
      >"$LAB_DIR/$pattern-$alg-$n.json" &
    pids+=($!)
    n=$((n + 1))
  done <<<"${pairs[$pattern]}"
  local ok=1 p
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  ((ok)) || fail "an iperf3 client failed in $pattern/$alg"
}

: >"$LAB_DIR/results.tsv"
for pattern in stride bijection; do
  ctl_reload "$policy" ecmp || fail "policy reload"
  sleep 12   # entries from the last tusk run idle out or are withdrawn; the analytics forget the flows
  run "$pattern" ecmp
  ctl_reload "$policy" tusk || fail "policy reload"
  sleep 12
  run "$pattern" tusk
  for alg in ecmp tusk; do
    total=$(python3 "$here/lib/iperf_total.py" "$LAB_DIR/$pattern-$alg-"*.json 10)
    printf '%s\t%s\t%s\n' "$pattern" "$alg" "$total" >>"$LAB_DIR/results.tsv"
  done
  lab_log "$pattern: $(awk -v p="$pattern" '$1 == p {printf "%s %.1f Mbit/s  ", $2, $3 / 1e6}' "$LAB_DIR/results.tsv")"
done

# The simulator's prediction: same topology file (link speeds), same patterns, the same policy (1-in-100
# sampling, 2 s polling, 1 s rounds) with the tusk selector.
ctl_policy "$LAB_DIR/sim-policy.yaml" tusk
"$TUSK_BIN" policy evaluate --policy "$LAB_DIR/sim-policy.yaml" --topology "$topo" --workload stride:4,bijection \
  --scheduler ecmp,tusk --seeds 5 --duration 30 --no-progress --output "$LAB_DIR/sim.csv" >/dev/null
"$TUSK_BIN" policy evaluate --policy "$LAB_DIR/sim-policy.yaml" --topology "$topo" --workload bijection \
  --scheduler ecmp,tusk --seeds 1 --duration 30 --no-progress --output "$LAB_DIR/sim-seed1.csv" >/dev/null

report_ok=1
python3 - "$LAB_DIR" "$bits" >"$LAB_DIR/report.md" <<'EOF' || report_ok=0
import csv, statistics, sys
lab, bits = sys.argv[1], float(sys.argv[2])
full = 16 * bits
res = {}
for line in open(f"{lab}/results.tsv"):
    p, a, t = line.split("\t")
    res[(p, a)] = float(t) / full
sim = {}
for r in csv.DictReader(open(f"{lab}/sim.csv")):
    w = "stride" if r["workload"].startswith("stride") else r["workload"]
    sim.setdefault((w, r["scheduler"]), []).append(float(r["throughput"]))
seed1 = {}
for r in csv.DictReader(open(f"{lab}/sim-seed1.csv")):
    seed1[r["scheduler"]] = float(r["throughput"])
print(f"# Closed loop on a k=4 fat-tree of Open vSwitch bridges, {int(bits/1e6)} Mbit/s links\n")
print("Normalised throughput (1.0 = every host at its link rate), lab: last 10 s of 16 iperf3 TCP flows; simulator: 5 seeds, mean (range).\n")
print("| pattern | lab ECMP | simulator ECMP | lab Tusk | simulator Tusk | lab Tusk / ECMP | Tusk lab vs simulator |")
print("|---|---|---|---|---|---|---|")
bad = False
for p in ("stride", "bijection"):
    le, lt = res[(p, "ecmp")], res[(p, "tusk")]
    se, st = sim[(p, "ecmp")], sim[(p, "tusk")]
    dev = (lt - statistics.mean(st)) / statistics.mean(st)
    print(f"| {p} | {le:.3f} | {statistics.mean(se):.3f} ({min(se):.3f}-{max(se):.3f}) | {lt:.3f} | {statistics.mean(st):.3f} | {lt/le:.2f} | {dev*100:+.0f}% |")
    if lt <= le:
        bad = True
        print(f"\nFAIL: Tusk did not beat ECMP on {p}")
print(f"\nSimulator, the bijection's own seed (the pairs the lab ran): ECMP {seed1.get('ecmp', 0):.3f}, Tusk {seed1.get('tusk', 0):.3f}.")
sys.exit(1 if bad else 0)
EOF
cat "$LAB_DIR/report.md"
[[ -n ${E2E_REPORT_DIR:-} ]] && { mkdir -p "$E2E_REPORT_DIR"; cp "$LAB_DIR/report.md" "$E2E_REPORT_DIR/fat-tree-report.md"; cp "$LAB_DIR/decisions.jsonl" "$E2E_REPORT_DIR/fat-tree-decisions.jsonl"; }
((report_ok)) || fail "Tusk did not beat ECMP on every pattern" 
kill -0 "$CTL_PID" || fail "tusk controller died"
echo "ok: closed loop on a k=4 fat-tree"
