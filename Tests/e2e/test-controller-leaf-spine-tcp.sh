#!/usr/bin/env bash
# `tusk controller` programming real Open vSwitch bridges (userspace datapath, fail_mode=secure,
# pinned datapath ids) with the proactive ECMP fabric of a topology file.
#
# Default: topologies/leaf-spine-2x2.yaml over TCP. The other test-controller-*.sh scripts run this
# one with an option:
#   --tls        the controller listens on TLS with mutual certificates (made here with openssl);
#                the bridges use ssl:127.0.0.1:PORT targets (ovs-vsctl set-ssl)
#   --fat-tree   topologies/fat-tree-k4.yaml (20 bridges, 16 hosts)
#   --reconnect  leaf-spine, then: restart Tusk, drop the controller connection, restart
#                ovs-vswitchd; after each, Tusk reconciles and dump-flows/dump-groups (without
#                counters and ages) are identical to before, with no duplicate or stale entry
#
# Checks, in every mode:
#   - every switch reaches "reconciled" in Tusk's log;
#   - dump-flows holds exactly the cookies `tusk controller show-fabric` lists for that switch (no
#     duplicates, nothing stale); dump-groups holds exactly its SELECT groups with the listed ports;
#   - every host pings every other host, with ARP resolved through the fabric (no static ARP here);
#   - parallel iperf3 flows across the fabric are spread over the equal-cost uplinks (leaf-spine: both
#     spines carry a share; fat-tree: at least two cores).
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-controller-leaf-spine-tcp.sh [--tls|--fat-tree|--reconnect]
# Environment: LAB_KEEP=1 leaves the lab up; CTL_RESTART_OVS=0 skips the ovs-vswitchd restart.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
[[ -x $TUSK_BIN ]] || { echo "FAIL: TUSK_BIN=$TUSK_BIN is not executable" >&2; exit 1; }

mode=${1:-tcp}
case $mode in
  tcp|--tcp) mode=tcp; LAB_PREFIX=${LAB_PREFIX:-tkct-} ;;
  --tls) mode=tls; LAB_PREFIX=${LAB_PREFIX:-tkcs-} ;;
  --fat-tree) mode=fat; LAB_PREFIX=${LAB_PREFIX:-tkcf-} ;;
  --reconnect) mode=reconnect; LAB_PREFIX=${LAB_PREFIX:-tkcr-} ;;
  *) echo "usage: $0 [--tls|--fat-tree|--reconnect]" >&2; exit 2 ;;
esac
# Hosts must resolve each other through the fabric's ARP entries.
LAB_STATIC_ARP=0
# Shaped fabric links (100 Mbit/s): each equal-cost path is a bottleneck of its own, so the byte
# shares of the spread check follow how many flows each path got, not which TCP flow was luckiest.
LAB_RATE=${LAB_RATE:-100mbit}
: "${CTL_RESTART_OVS:=1}"
# shellcheck source=lib/lab.sh
source "$here/lib/lab.sh"

fail() {
  echo "FAIL: $*" >&2
  [[ -n ${LAB_DIR:-} && -f $LAB_DIR/tusk.err ]] && { echo "--- tusk log (last 40 lines)" >&2; tail -n 40 "$LAB_DIR/tusk.err" >&2; }
  exit 1
}

lab_require iperf3 openssl
lab_init
if [[ $mode == fat ]]; then
  lab_fat_tree
  topo=$repo/topologies/fat-tree-k4.yaml
else
  lab_leaf_spine
  topo=$repo/topologies/leaf-spine-2x2.yaml
fi
nsw=${#LAB_SWITCHES[@]}
"$TUSK_BIN" controller show-fabric --topology "$topo" >"$LAB_DIR/fabric.txt" || fail "show-fabric failed"

port=$(lab_free_port tcp)
tusk_args=(controller --topology "$topo" --echo-interval 2 --echo-misses 3)
target=tcp:127.0.0.1:$port
if [[ $mode == tls ]]; then
  # Test certificates, made now, never kept: a CA, the controller's and the switches'.
  pki=$LAB_DIR/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=tusk-e2e-ca
    for n in controller switch; do
      openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=tusk-e2e-$n
      openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 1
    done
  ) >/dev/null 2>&1 || fail "openssl could not make the test certificates"
  tusk_args+=(--tls-listen "127.0.0.1:$port" --cert "$pki/controller.pem" --key "$pki/controller.key" --ca "$pki/ca.pem")
  target=ssl:127.0.0.1:$port
  # set-ssl is global to the OVS instance: remove it again on exit.
  lab_on_exit 'ovs-vsctl --timeout=10 del-ssl >/dev/null 2>&1'
  lab_set_ssl "$pki/switch.key" "$pki/switch.pem" "$pki/ca.pem"
else
  tusk_args+=(--listen "127.0.0.1:$port" --listen "127.0.0.2:$port" --listen "[::1]:$port")
fi
# TCP mode: one switch (s2) listens itself (ptcp:) and Tusk connects out to it.
passive=""
if [[ $mode == tcp ]]; then
  passive=s2
  pport=$(lab_free_port tcp)
  tusk_args+=(--connect "tcp:127.0.0.1:$pport")
fi

tusk_pid=""
start_tusk() {
  lab_bg tusk - "$TUSK_BIN" "${tusk_args[@]}"
  tusk_pid=$LAB_LAST_PID
  # Keep every run's log: restarts append to tusk.log.
  lab_wait_listen tcp "$port" - 20 "$tusk_pid" || fail "tusk controller does not listen on $port: $(cat "$LAB_DIR/tusk.err")"
}
stop_tusk() {
  lab_stop "$tusk_pid"
  cat "$LAB_DIR/tusk.err" >>"$LAB_DIR/tusk.log"
}

# reconciled_count [SINCE]: how many distinct switches the current Tusk run has logged as reconciled
# after its first SINCE log lines.
reconciled_count() {
  tail -n +"$((${1:-0} + 1))" "$LAB_DIR/tusk.err" 2>/dev/null | grep 'reconciled: switch programmed' | \
    grep -o 'dpid=[0-9a-f]*' | sort -u | wc -l
}
log_lines() { wc -l <"$LAB_DIR/tusk.err"; }

# wait_reconciled SINCE TIMEOUT: until every switch has been reconciled after log line SINCE.
wait_reconciled() {
  local since=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    (($(reconciled_count "$since") >= nsw)) && return 0
    kill -0 "$tusk_pid" 2>/dev/null || fail "tusk controller exited"
    sleep 0.2
  done
  fail "only $(reconciled_count "$since") of $nsw switches reconciled within $2 s"
}

set_controller() {
  # One transaction, each bridge with its final target (changing a bridge's controllers later may
  # make OVS flush its flows). TCP mode: s1 reaches Tusk over IPv6, s2 listens (ptcp:).
  local args=() s t
  for s in "${LAB_SWITCHES[@]}"; do
    t=$target
    if [[ -n $passive && $s == "$passive" ]]; then t=ptcp:$pport:127.0.0.1
    elif [[ -n $passive && $s == s1 ]]; then t=${target/127.0.0.1/[::1]}
    fi
    # Reconnect quickly after a drop (the default backoff grows to 8 s).
    args+=(-- set-controller "$(lab_br "$s")" "$t" -- set controller "$(lab_br "$s")" max_backoff=1000 inactivity_probe=5000)
  done
  lab_vsctl "${args[@]}"
}

# check_tables: each bridge holds exactly what show-fabric lists (cookies, groups and their ports).
check_tables() {
  local s want got dups gwant ggot
  for s in "${LAB_SWITCHES[@]}"; do
    lab_ofctl "$s" dump-flows >"$LAB_DIR/flows.$s" || fail "dump-flows $s"
    want=$(awk -v s="$s" '$1 == "flow" && $2 == s {print $4}' "$LAB_DIR/fabric.txt" | sort)
    got=$({ grep -o 'cookie=0x[0-9a-f]*' "$LAB_DIR/flows.$s" || true; } | cut -d= -f2 | sort)
    dups=$(echo "$got" | uniq -d)
    [[ -z $dups ]] || fail "$s: duplicate entries for cookies $dups"
    [[ $want == "$got" ]] || { diff <(echo "$want") <(echo "$got") >&2 || true; fail "$s: flow cookies differ from what Tusk intended"; }
    lab_ofctl "$s" dump-groups >"$LAB_DIR/groups.$s" || fail "dump-groups $s"
    gwant=$(awk -v s="$s" '$1 == "group" && $2 == s {n = split($6, p, ","); line = $4; for (i = 1; i <= n; i++) line = line " " p[i]; print line}' "$LAB_DIR/fabric.txt" | sort)
    ggot=$({ grep -o 'group_id=[0-9]*.*' "$LAB_DIR/groups.$s" || true; } | { grep 'type=select' || true; } | \
           sed -E 's/group_id=([0-9]+).*/\1 &/' | awk '{id = $1; line = id; while (match($0, /output:[0-9]+/)) { line = line " " substr($0, RSTART + 7, RLENGTH - 7); $0 = substr($0, RSTART + RLENGTH) } print line}' | sort)
    [[ $gwant == "$ggot" ]] || { echo "want: $gwant" >&2; echo "got: $ggot" >&2; fail "$s: groups differ from what Tusk intended"; }
    # Every entry points where show-fabric says (compare the action of each cookie).
    while read -r _ sw _ cookie _ _ action; do
      [[ $sw == "$s" ]] || continue
      grep -q "cookie=$cookie,.* actions=${action}\$" "$LAB_DIR/flows.$s" || fail "$s: entry $cookie does not do $action: $(grep "cookie=$cookie," "$LAB_DIR/flows.$s")"
    done < <(grep '^flow ' "$LAB_DIR/fabric.txt")
  done
  lab_log "dump-flows/dump-groups on $nsw bridges hold exactly the $(grep -c '^flow ' "$LAB_DIR/fabric.txt") flows and $(grep -c '^group ' "$LAB_DIR/fabric.txt") groups Tusk intended"
}

# snapshot FILE: every bridge's flows and groups without counters, durations and ages.
snapshot() {
  local s
  for s in "${LAB_SWITCHES[@]}"; do
    echo "== $s"
    lab_ofctl "$s" dump-flows | { grep -v '^OFPST' || true; } | \
      sed -E 's/ duration=[^,]*,//; s/ n_packets=[^,]*,//; s/ n_bytes=[^,]*,//; s/ idle_age=[^,]*,//; s/ hard_age=[^,]*,//' | sort
    lab_ofctl "$s" dump-groups | { grep -v '^OFPST' || true; } | sort
  done >"$1"
}

# spread_check SRC DST SWITCH... : PARALLEL (8) iperf3 flows SRC -> DST; at least MIN_CARRIERS (2) of
# the listed switches must each forward at least 10% of the bytes. (With 8 flows hashed over 2 paths,
# all on one path has odds 1 in 128: one retry with new flows.)
spread_check() {
  local src=$1 dst=$2; shift 2
  local sws=("$@") s before=() after=() i total=0 share
  # Sum of tx bytes over the switch's ports (dump-ports: "tx pkts=N, bytes=N, ...").
  txbytes() { lab_ofctl "$1" dump-ports | tr -d ',' | awk '$1 == "tx" {for (i = 1; i <= NF; i++) if ($i ~ /^bytes=/) {sub("bytes=", "", $i); t += $i}} END {print t + 0}'; }
  for s in "${sws[@]}"; do before+=("$(txbytes "$s")"); done
  lab_bg iperf3-server-$dst "$dst" iperf3 -s -1 -B "$(lab_ip "$dst")" -p 5201
  lab_wait_listen tcp 5201 "$dst" 10 "$LAB_LAST_PID" || fail "iperf3 server did not start"
  lab_exec "$src" timeout 40 iperf3 -c "$(lab_ip "$dst")" -p 5201 -P "${PARALLEL:-8}" -t 4 -J >"$LAB_DIR/iperf3-$src.json" || \
    fail "iperf3 $src -> $dst failed: $(tail -c 400 "$LAB_DIR/iperf3-$src.json")"
  for s in "${sws[@]}"; do after+=("$(txbytes "$s")"); done
  for i in "${!sws[@]}"; do total=$((total + after[i] - before[i])); done
  ((total > 1000000)) || fail "iperf3 moved only $total bytes through ${sws[*]}"
  local carried=0 report=""
  for i in "${!sws[@]}"; do
    share=$(( (after[i] - before[i]) * 100 / total ))
    report+="${sws[i]}=${share}% "
    ((share >= 10)) && carried=$((carried + 1))
  done
  lab_log "${PARALLEL:-8} parallel iperf3 flows $src -> $dst: $report"
  echo "$report" >"$LAB_DIR/spread.$src"
  ((carried >= ${MIN_CARRIERS:-2})) && return 0
  if [[ ${SPREAD_RETRY:-1} == 1 ]]; then
    lab_log "not spread ($report); once more with new flows"
    SPREAD_RETRY=0 spread_check "$src" "$dst" "${sws[@]}"
    return
  fi
  fail "flows were not spread over the equal-cost paths: $report"
}

# ---- run -----------------------------------------------------------------------------------------------------
start_tusk
set_controller
# (OVS never reports a passive ptcp: controller as connected: there, the reconciliation proves it.)
[[ -n $passive ]] || lab_wait_connected 30 || fail "bridges did not connect to Tusk"
wait_reconciled 0 60
grep -q 'switch active' "$LAB_DIR/tusk.err" || fail "no 'switch active' log line"
if [[ -n $passive ]]; then
  grep "switch active" "$LAB_DIR/tusk.err" | grep -q "dpid=$(lab_dpid_hex "$passive")" || fail "Tusk did not connect out to $passive (ptcp:$pport)"
  grep "switch active" "$LAB_DIR/tusk.err" | grep "dpid=$(lab_dpid_hex s1)" | grep -q 'peer=\[IPv6\]' || fail "s1 did not connect over IPv6"
  lab_log "$passive listens (ptcp:$pport) and Tusk connected out to it; s1 connected over IPv6 ([::1]:$port), the others over IPv4"
fi
check_tables
lab_ping_all 3 || fail "not every host reaches every other host"
lab_log "all $(( ${#LAB_HOSTS[@]} * (${#LAB_HOSTS[@]} - 1) )) host pairs ping (ARP through the fabric)"

case $mode in
  tcp|tls)
    spread_check h1 h3 s1 s2
    ;;
  fat)
    # h0 (pod 0) -> h15 (pod 3): up through both aggregations and the four cores. Each tier hashes on
    # another bit (see ProactiveFabric.buckets), so the cores are not polarized onto two of four.
    PARALLEL=16 MIN_CARRIERS=3 spread_check h0 h15 c0 c1 c2 c3
    ;;
  reconnect)
    snapshot "$LAB_DIR/before"

    # 1. The controller restarts: the switches keep their tables; Tusk reads them and changes nothing.
    stop_tusk
    start_tusk
    wait_reconciled 0 60
    changed=$(grep 'reconciled: switch programmed' "$LAB_DIR/tusk.err" | \
              grep -v 'flowsAdded=0 flowsDeleted=0 flowsUntouched=8 groupsAdded=0 groupsDeleted=0 groupsModified=0' || true)
    [[ -z $changed ]] || fail "after a controller restart Tusk changed tables: $changed"
    snapshot "$LAB_DIR/after-restart"
    diff "$LAB_DIR/before" "$LAB_DIR/after-restart" >&2 || fail "tables changed across a controller restart"
    lab_log "controller restart: reconciled, nothing added or deleted, tables identical"

    # 2. A stale entry of ours and a missing one, then the connection drops: reconciliation repairs both.
    stale_cookie=0x5446010000000063
    lab_ofctl l1 add-flow "cookie=$stale_cookie,priority=32768,ip,nw_dst=10.9.9.9,actions=output:1"
    lab_ofctl l2 del-flows "cookie=$(awk '$1 == "flow" && $2 == "l2" {print $4; exit}' "$LAB_DIR/fabric.txt")/-1"
    n0=$(log_lines)
    # Drop the TCP connections under the switches (not del-controller: OVS flushes a bridge's flows
    # when it loses its last controller). ss -K needs CONFIG_INET_DIAG_DESTROY; without it, point the
    # bridges at another loopback address of the same listener, which drops and re-opens them too.
    ss -K state established "( dport = :$port )" >/dev/null 2>&1 || true
    sleep 0.5
    if (($(reconciled_count "$n0") == 0)) && ss -Htn state established "( dport = :$port )" | grep -q .; then
      lab_log "ss -K dropped nothing here; re-pointing the bridges instead"
      target=tcp:127.0.0.2:$port
      set_controller
    fi
    wait_reconciled "$n0" 60
    snapshot "$LAB_DIR/after-drop"
    diff "$LAB_DIR/before" "$LAB_DIR/after-drop" >&2 || fail "tables differ after the connection drop"
    grep -q 'flowsDeleted=1' "$LAB_DIR/tusk.err" || fail "the stale entry was not reported deleted"
    lab_log "connection drop: the stale entry deleted, the missing one added, tables identical"

    # 3. ovs-vswitchd restarts (userspace datapath: its tables start empty): everything is re-added.
    if ((CTL_RESTART_OVS)); then
      n0=$(log_lines)
      lab_restart_vswitchd || fail "could not restart ovs-vswitchd (lock not free within 60 s, or ovs-ctl failed)"
      lab_wait_connected 60 || fail "bridges did not reconnect after the ovs-vswitchd restart"
      wait_reconciled "$n0" 60
      snapshot "$LAB_DIR/after-ovs"
      diff "$LAB_DIR/before" "$LAB_DIR/after-ovs" >&2 || fail "tables differ after restarting ovs-vswitchd"
      lab_log "ovs-vswitchd restart: tables re-programmed, identical to before"
    fi
    check_tables
    lab_ping_all 3 || fail "connectivity not restored after reconciliation"
    lab_log "connectivity restored"
    ;;
esac

# No session may have been refused or closed for a protocol error.
if grep -E 'switch refused a request|malformed message' "$LAB_DIR/tusk.err"; then fail "Tusk logged protocol errors"; fi
echo "ok: controller $mode"
