#!/usr/bin/env bash
# Programming a real Open vSwitch bridge: flow-mods per second accepted and barrier-confirmed over
# TCP by `tusk controller bench-program`, against `ovs-ofctl add-flows` loading the very same entries
# from a file (cookie, priority, match, action; written by bench-program --ofctl-file), in the same
# run. Each side: median of RUNS runs, the bridge emptied before each. Prints the ratio Tusk / ovs-ofctl.
#
# ovs-ofctl times: the whole `ovs-ofctl add-flows` process (it connects over the bridge's Unix socket
# and, flow-mod by flow-mod, sends it with a barrier and waits for the reply). A second reference,
# `ovs-ofctl --bundle add-flows`, sends everything in one bundle and commits it once. Tusk times: from its first flow-mod to the last
# barrier reply, over TCP on loopback, in batches of BATCH flow-mods each closed by a barrier.
#
# Usage (root): Benchmarks/peers/openflow-program.sh   Environment: TUSK, FLOWS (50000), BATCH (2000), RUNS (3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUSK=${TUSK:-$ROOT/.build/release/tusk}
FLOWS=${FLOWS:-50000}
BATCH=${BATCH:-2000}
RUNS=${RUNS:-3}
BR=${BR:-tkbench0}
[[ $(id -u) -eq 0 ]] || { echo "openflow-program: skipped (needs root for Open vSwitch)"; exit 0; }
[[ -x $TUSK ]] || { echo "no tusk binary at $TUSK (swift build -c release --product tusk)" >&2; exit 1; }
command -v ovs-vsctl >/dev/null || "$ROOT/scripts/ensure-packages.sh" openvswitch-switch
if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
  ( flock -w 60 9; ovs-vsctl --timeout=5 show >/dev/null 2>&1 || \
      /usr/share/openvswitch/scripts/ovs-ctl --system-id=random --no-monitor start >&2 ) 9>/run/tusk-lab-ovs.lock
fi
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  ovs-vsctl --timeout=10 --if-exists del-br "$BR" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ovs-vsctl --timeout=10 --if-exists del-br "$BR" -- add-br "$BR" -- set bridge "$BR" datapath_type=netdev \
  fail_mode=secure protocols=OpenFlow13 other-config:datapath-id=00000000000b0b0b other-config:disable-in-band=true
"$TUSK" controller bench-program --flows "$FLOWS" --ofctl-file "$work/flows.txt"
ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
now() { date +%s.%N; }

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

tusk_rates=()
ofctl_rates=()
bundle_rates=()
for r in $(seq "$RUNS"); do
  # ovs-ofctl add-flows, from an empty table.
  ofctl del-flows "$BR"
  t0=$(now)
  ofctl add-flows "$BR" "$work/flows.txt"
  t1=$(now)
  n=$(ofctl dump-aggregate "$BR" | grep -o 'flow_count=[0-9]*' | cut -d= -f2)
  [[ $n == "$FLOWS" ]] || { echo "ovs-ofctl left $n flows, expected $FLOWS" >&2; exit 1; }
  ofctl_rates+=("$(echo "$FLOWS $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}')")

  # ovs-ofctl --bundle add-flows (one atomic bundle), from an empty table.
  ofctl del-flows "$BR"
  t0=$(now)
  ofctl --bundle add-flows "$BR" "$work/flows.txt"
  t1=$(now)
  n=$(ofctl dump-aggregate "$BR" | grep -o 'flow_count=[0-9]*' | cut -d= -f2)
  [[ $n == "$FLOWS" ]] || { echo "ovs-ofctl --bundle left $n flows, expected $FLOWS" >&2; exit 1; }
  bundle_rates+=("$(echo "$FLOWS $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}')")

  # Tusk over TCP, from an empty table.
  ofctl del-flows "$BR"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$TUSK" controller bench-program --flows "$FLOWS" --batch "$BATCH" --listen "127.0.0.1:$port" --timeout 30 \
    >"$work/tusk.json" 2>"$work/tusk.err" &
  pid=$!
  for _ in $(seq 100); do ss -H -lnt "sport = :$port" | grep -q . && break; sleep 0.05; done
  ovs-vsctl --timeout=10 set-controller "$BR" "tcp:127.0.0.1:$port"
  wait "$pid" || { cat "$work/tusk.err" >&2; exit 1; }
  pid=""
  n=$(ofctl dump-aggregate "$BR" | grep -o 'flow_count=[0-9]*' | cut -d= -f2)
  [[ $n == "$FLOWS" ]] || { echo "Tusk left $n flows, expected $FLOWS" >&2; exit 1; }
  # (OVS flushes a bridge's flows when its last controller is removed.)
  ovs-vsctl --timeout=10 del-controller "$BR"
  tusk_rates+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["flowModsPerSecond"])' "$work/tusk.json")")
  echo "run $r: tusk ${tusk_rates[-1]} flow-mods/s (barrier-confirmed), ovs-ofctl add-flows ${ofctl_rates[-1]}, --bundle ${bundle_rates[-1]}"
done
tm=$(printf '%s\n' "${tusk_rates[@]}" | median)
om=$(printf '%s\n' "${ofctl_rates[@]}" | median)
bm=$(printf '%s\n' "${bundle_rates[@]}" | median)
echo "openflow-program: $FLOWS flow-mods into $BR (userspace datapath), batches of $BATCH, median of $RUNS"
echo "  tusk controller bench-program: $tm flow-mods/s"
echo "  ovs-ofctl add-flows:           $om flow-mods/s"
echo "  ovs-ofctl --bundle add-flows:  $bm flow-mods/s"
echo "  ratio tusk / ovs-ofctl:        $(awk -v a="$tm" -v b="$om" 'BEGIN {printf "%.2f", a / b}')"
echo "  ratio tusk / ovs-ofctl --bundle: $(awk -v a="$tm" -v b="$bm" 'BEGIN {printf "%.2f", a / b}')"
