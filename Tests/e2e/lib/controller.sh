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
