# Helpers for e2e tests that run `tusk controller` on a lab (source after lib/lab.sh and lab_init).
#   ctl_start ARGS...          start `tusk controller ARGS...` (log in $LAB_DIR/tusk.err; pid in CTL_PID)
#   ctl_connect PORT [SW=P..]  point every bridge at tcp:127.0.0.1:PORT (quick reconnects); SW=P: that one at P
#   ctl_wait_reconciled [S]    until every switch has been reconciled by the current run (since its start)
#   ctl_policy FILE ALGORITHM  write the e2e policy (1-in-100 sampling, 2 s polling, 1 s rounds)
#   ctl_reload FILE ALGORITHM  rewrite it and SIGHUP the controller; wait for "policy reloaded"
#   ctl_ts_entries SWITCH      the elephant entries (cookie 0x5453...) a bridge holds
#   ctl_txbytes SWITCH PORT    tx bytes of a bridge port
#   ctl_place_elephant SECS    iperf3 h1->h3 and h2->h4 (servers on 5201) with client-port pairs that
#                              ECMP collides, tried until Tusk places one on l1; the runs go on (SECS
#                              long, JSON in $LAB_DIR/h1.json and h2.json, pids in CTL_IPERF_PIDS)
#   ctl_metric URL NAME        a Prometheus metric from URL/metrics (--http), summed over its labels
#   ctl_collision_ports SEED   two iperf3 client ports whose flows h1->h3, h2->h4 share one uplink of l1 (ECMP)
#   ctl_leaf_spine_experiment SEED  the lab, `tusk controller` under ECMP, iperf3 servers and a colliding
#                              client-port pair (c1, c2), ready for two elephants (see below)
: "${TUSK_BIN:?set TUSK_BIN}"
CTL_PID=""
CTL_LOG_START=0
ctl_start() {
  [[ -f $LAB_DIR/tusk.err ]] && cat "$LAB_DIR/tusk.err" >>"$LAB_DIR/tusk.log"
  lab_bg tusk - "$TUSK_BIN" controller "$@"
  CTL_PID=$LAB_LAST_PID
  local port="" a
  for a in "$@"; do [[ $port == next ]] && port=${a##*:}; [[ $a == --listen ]] && port=next; done
  [[ -n $port && $port != next ]] && { lab_wait_listen tcp "$port" - 20 "$CTL_PID" || { echo "FAIL: tusk controller does not listen on $port" >&2; cat "$LAB_DIR/tusk.err" >&2; return 1; }; }
  return 0
}
ctl_connect() {
  local s p args=() over=("${@:2}")
  for s in "${LAB_SWITCHES[@]}"; do
    p=$1
    for o in "${over[@]}"; do [[ ${o%%=*} == "$s" ]] && p=${o#*=}; done
    args+=(-- set-controller "$(lab_br "$s")" "tcp:127.0.0.1:$p" -- set controller "$(lab_br "$s")" max_backoff=1000)
  done
  lab_vsctl "${args[@]}"
}
ctl_wait_reconciled() {
  local deadline=$((SECONDS + ${1:-30}))
  until (($(grep 'reconciled: switch programmed' "$LAB_DIR/tusk.err" 2>/dev/null | grep -o 'dpid=[0-9a-f]*' | sort -u | wc -l) >= ${#LAB_SWITCHES[@]})); do
    ((SECONDS < deadline)) || return 1
    kill -0 "$CTL_PID" 2>/dev/null || return 1
    sleep 0.2
  done
}
ctl_policy() {
  cat >"$1" <<POLICY
# e2e: leaf-spine, 100 Mbit/s fabric links, 1-in-100 sampling
sflow: {sampling-rate: 100, polling-interval: 2s}
selector: {algorithm: $2, control-interval: 1s}
flow-table: {idle-timeout: 5s}
POLICY
}
ctl_reload() {
  local before deadline=$((SECONDS + 10))
  before=$(grep -c 'policy reloaded' "$LAB_DIR/tusk.err" || true)
  ctl_policy "$1" "$2"
  kill -HUP "$CTL_PID"
  until (($(grep -c 'policy reloaded' "$LAB_DIR/tusk.err" || true) > before)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
ctl_ts_entries() { lab_ofctl "$1" dump-flows | { grep 'cookie=0x5453' || true; }; }
ctl_txbytes() { lab_ofctl "$1" dump-ports "$2" | tr -d ',' | awk '$1 == "tx" {for (i = 1; i <= NF; i++) if ($i ~ /^bytes=/) {sub("bytes=", "", $i); print $i}}'; }

CTL_IPERF_PIDS=()
ctl_place_elephant() {
  local secs=${1:-45} pair c1 c2 p1 p2 pairs
  # (28805, 57303 collided on every run of the leaf-spine experiment; the rest are seeded random pairs.)
  mapfile -t pairs < <(python3 -c "
import random; r = random.Random(7)
print('28805 57303')
for _ in range(9): print(*r.sample(range(20000, 60000), 2))")
  for pair in "${pairs[@]}"; do
    read -r c1 c2 <<<"$pair"
    lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport "$c1" -t "$secs" -i 0.5 -J >"$LAB_DIR/h1.json" &
    p1=$!
    lab_exec h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport "$c2" -t "$secs" -i 0.5 -J >"$LAB_DIR/h2.json" &
    p2=$!
    for _ in $(seq 40); do
      sleep 0.25
      if [[ -n $(ctl_ts_entries l1) ]]; then CTL_IPERF_PIDS=("$p1" "$p2"); return 0; fi
    done
    kill "$p1" "$p2" 2>/dev/null || true
    wait "$p1" "$p2" 2>/dev/null || true
    sleep 1
  done
  echo "no port pair made Tusk place an elephant in ${#pairs[@]} tries" >&2
  return 1
}

# fail MESSAGE: report, show the end of the controller's log, and stop the test (cleanup runs on exit).
fail() {
  echo "FAIL: $*" >&2
  [[ -n ${LAB_DIR:-} && -f $LAB_DIR/tusk.err ]] && { echo "--- tusk log (last 40 lines)" >&2; tail -n 40 "$LAB_DIR/tusk.err" >&2; }
  exit 1
}

# ctl_metric URL NAME: the sum of a Prometheus metric's samples (every label set) from URL/metrics, or 0.
ctl_metric() {
  curl -s --max-time 5 "$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%d\n", s}'
}

# ctl_collision_ports SEED [TRIES=12]: two client ports whose iperf3 TCP flows h1 -> h3 (port 5201) and
# h2 -> h4 (port 5201) share one uplink of l1 under plain ECMP (run with the ecmp policy, both iperf3
# servers up, TIME_WAIT off in the hosts). Prints "CPORT1 CPORT2"; each try runs both flows for 3 s and
# reads l1's uplink counters (ports 3, 4): collided when one uplink carried under 10 % of the bytes.
ctl_collision_ports() {
  local seed=$1 tries=${2:-12} i c1 c2 a3 a4 d3 d4 p1 p2 ports
  mapfile -t ports < <(python3 -c "import random; r = random.Random($seed); print('\n'.join(map(str, r.sample(range(20000, 60000), 2 * $tries))))")
  for ((i = 0; i < tries; i++)); do
    c1=${ports[2 * i]}; c2=${ports[2 * i + 1]}
    lab_exec h1 iperf3 -c "$(lab_ip h3)" -p 5201 --cport "$c1" -t 3 >/dev/null 2>&1 &
    p1=$!
    lab_exec h2 iperf3 -c "$(lab_ip h4)" -p 5201 --cport "$c2" -t 3 >/dev/null 2>&1 &
    p2=$!
    sleep 1
    a3=$(ctl_txbytes l1 3); a4=$(ctl_txbytes l1 4)
    sleep 1.5
    d3=$(($(ctl_txbytes l1 3) - a3)); d4=$(($(ctl_txbytes l1 4) - a4))
    wait "$p1" "$p2" || true
    sleep 0.5
    if ((d3 * 10 < d3 + d4 || d4 * 10 < d3 + d4)); then echo "$c1 $c2"; return 0; fi
  done
  return 1
}

# ctl_leaf_spine_experiment SEED: the common set-up of the two-elephant fault tests (call it after
# lab_require, in place of lab_init; not from a conditional, so that `set -e` still applies inside):
#   - lab_init, lab_leaf_spine, no TIME_WAIT in h1..h4 (client ports are used again);
#   - `tusk controller` on free ports under the ecmp policy (ctl_policy: 1-in-100 sampling, 2 s
#     polling, 1 s rounds) with a decision log, the HTTP API and 2 s echoes; every bridge connected
#     and reconciled, sFlow 1-in-100 with 2 s polling to it, all hosts pinging each other;
#   - iperf3 servers on h3 and h4 (port 5201), and two client ports that ECMP puts on one uplink of
#     l1 (ctl_collision_ports SEED).
# Any step that goes wrong ends the test through `fail`. Sets these globals for the test:
#   topo       topologies/leaf-spine-2x2.yaml (absolute)
#   ofport, sfport, httpport   the controller's OpenFlow (tcp), sFlow (udp) and HTTP (tcp) ports
#   http       http://127.0.0.1:$httpport (for ctl_metric)
#   policy     $LAB_DIR/policy.yaml (algorithm ecmp; ctl_reload "$policy" tusk to switch)
#   decisions  $LAB_DIR/decisions.jsonl
#   tusk_pid   the controller's pid (also CTL_PID)
#   c1, c2     the colliding iperf3 client ports for h1 -> h3 and h2 -> h4
ctl_leaf_spine_experiment() {
  local seed=$1 h
  lab_init
  lab_leaf_spine
  topo=$(cd "$LAB_LIB_DIR/../../.." && pwd)/topologies/leaf-spine-2x2.yaml
  for h in h1 h2 h3 h4; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done

  ofport=$(lab_free_port tcp)
  sfport=$(lab_free_port udp)
  httpport=$(lab_free_port tcp)
  # shellcheck disable=SC2034  # read by the caller (ctl_metric "$http" ...)
  http=http://127.0.0.1:$httpport
  policy=$LAB_DIR/policy.yaml
  decisions=$LAB_DIR/decisions.jsonl
  ctl_policy "$policy" ecmp
  ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" \
    --decisions "$decisions" --http "127.0.0.1:$httpport" --echo-interval 2 || fail "tusk controller did not start"
  tusk_pid=$CTL_PID
  lab_wait_listen udp "$sfport" - 20 "$tusk_pid" || fail "tusk controller does not listen for sFlow on $sfport"
  ctl_connect "$ofport"
  ctl_wait_reconciled 30 || fail "the switches were not reconciled within 30 s"
  lab_sflow_enable "$sfport" 100 2
  lab_ping_all >/dev/null || fail "hosts do not reach each other through the fabric"
  lab_wait_listen tcp "$httpport" - 10 "$tusk_pid" || fail "HTTP API not listening"

  lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
  lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
  lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
  lab_wait_listen tcp 5201 h4 10 || fail "iperf3 server on h4"
  read -r c1 c2 < <(ctl_collision_ports "$seed") || fail "no pair of client ports collided under ECMP"
  lab_log "client ports $c1, $c2 share one uplink of l1 under ECMP"
}
