# shellcheck shell=bash
# Tusk real-switch lab: Open vSwitch bridges (userspace datapath) and hosts in network namespaces.
# Source this file from a test, then:
#
#   LAB_PREFIX=tkxy-            # unique per test: every bridge, veth and namespace starts with it
#   source "$(dirname "$0")/lib/lab.sh"
#   lab_init                    # root and tools checked, OVS started if needed, cleanup trap on EXIT
#   lab_leaf_spine              # or lab_fat_tree; bridges are fail_mode=secure with no flows
#   lab_static_routes           # OR: lab_set_controller tcp:127.0.0.1:6653
#   lab_sflow_enable 6343 64 1  # optional: sFlow from every bridge to 127.0.0.1:6343
#   lab_exec h1 ping -c1 10.0.0.3
#
# See README.md beside this file for the topologies, datapath ids and port numbers.
# Every object is named from LAB_PREFIX plus a fixed suffix, and cleanup removes exactly those names:
# it never globs, so tests with different prefixes can run side by side.

# ---- settings (set before lab_init / the builders) -------------------------------------------------
: "${LAB_PREFIX:=tk-}"          # name prefix; at most 8 characters so interface names stay <= 15
: "${LAB_RATE:=100mbit}"        # tc tbf rate on every fabric link end ("" or "none": not shaped)
: "${LAB_HOST_RATE:=}"          # tc tbf rate on the switch end of host links (default: not shaped)
: "${LAB_TBF_LATENCY:=20ms}"    # tbf queue size, as the time to drain it
: "${LAB_DPID_BASE:=0}"         # added to every datapath id (for labs that must not share dpids)
: "${LAB_STATIC_ARP:=1}"        # 1: permanent neighbour entries for every other host in each namespace
: "${LAB_KEEP:=0}"              # 1: leave everything in place on exit (debugging; clean with lab_cleanup)
: "${LAB_STOP_OVS:=0}"          # 1: stop OVS on exit if this lab started it and no bridge remains
: "${LAB_VERBOSE:=0}"           # 1: log every command to stderr

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=""                      # per-run scratch directory (logs, spec, flows)
LAB_TOPOLOGY=""                 # leaf-spine-2x2 | fat-tree-k4
LAB_SWITCHES=()                 # switch names, in build order
declare -gA LAB_DPIDS=()        # switch -> datapath id (decimal)
LAB_LINKS=()                    # "SW:PORT SW:PORT"
LAB_HOSTS=()                    # host names
declare -gA LAB_HOST_IP=()      # host -> a.b.c.d/len
declare -gA LAB_HOST_MAC=()     # host -> MAC
declare -gA LAB_HOST_AT=()      # host -> SW:PORT
LAB_PIDS=()                     # background processes started by lab_bg
LAB_EXIT_HOOKS=()               # commands run first by lab_cleanup
LAB_STARTED_OVS=0
LAB_LAST_PID=""

# ---- logging -------------------------------------------------------------------------------------------
lab_log() { echo "[lab $(date +%H:%M:%S)] $*" >&2; }
lab_die() { echo "[lab] FATAL: $*" >&2; exit 1; }
_lab_run() { ((LAB_VERBOSE)) && echo "+ $*" >&2; "$@"; }
_lab_quiet() { "$@" >/dev/null 2>&1 || true; }   # best effort (cleanup paths)

# ---- names -------------------------------------------------------------------------------------------------
lab_br()  { echo "${LAB_PREFIX}$1"; }                  # switch -> bridge name
lab_if()  { echo "${LAB_PREFIX}$1p$2"; }               # switch, port -> interface name (root namespace)
lab_ns()  { echo "${LAB_PREFIX}$1"; }                  # host -> network namespace
lab_ip()  { echo "${LAB_HOST_IP[$1]%/*}"; }            # host -> IPv4 address
lab_mac() { echo "${LAB_HOST_MAC[$1]}"; }
lab_dpid() { echo "${LAB_DPIDS[$1]}"; }                # switch -> datapath id (decimal)
lab_dpid_hex() { printf '%016x\n' "${LAB_DPIDS[$1]}"; }
lab_host_switch() { echo "${LAB_HOST_AT[$1]%%:*}"; }
lab_host_port() { echo "${LAB_HOST_AT[$1]##*:}"; }
lab_bridges() { local s; for s in "${LAB_SWITCHES[@]}"; do lab_br "$s"; done; }

# ---- OVS -----------------------------------------------------------------------------------------------------
lab_vsctl() { _lab_run ovs-vsctl --timeout=30 "$@"; }
# lab_ofctl SWITCH COMMAND [ARGS...]: ovs-ofctl -O OpenFlow13 COMMAND BRIDGE ARGS...
lab_ofctl() { local sw=$1 cmd=$2; shift 2; _lab_run ovs-ofctl -O OpenFlow13 "$cmd" "$(lab_br "$sw")" "$@"; }

# Starts ovsdb-server and ovs-vswitchd when they are not answering. Serialized by a lock so that
# tests starting together don't both run ovs-ctl. OVS is left running on exit (other tests may hold
# bridges in it) unless LAB_STOP_OVS=1 and this lab started it and no bridge is left.
lab_ovs_start() {
  if ovs-vsctl --timeout=5 show >/dev/null 2>&1; then return 0; fi
  local rc=0
  (
    flock -w 60 9 || exit 1
    if ovs-vsctl --timeout=5 show >/dev/null 2>&1; then exit 0; fi
    # 9>&-: the daemons must not inherit (and hold for their lifetime) the lock.
    /usr/share/openvswitch/scripts/ovs-ctl --system-id=random --no-monitor start >&2 9>&- || exit 1
    exit 3
  ) 9>/run/tusk-lab-ovs.lock || rc=$?   # (|| keeps `set -e` callers alive on the 3)
  case $rc in
    0) ;;
    3) LAB_STARTED_OVS=1; lab_log "started Open vSwitch" ;;
    *) lab_die "could not start Open vSwitch" ;;
  esac
  ovs-vsctl --timeout=10 show >/dev/null || lab_die "Open vSwitch does not answer"
}

# lab_restart_vswitchd [BEFORE_START]: stop ovs-vswitchd (`ovs-appctl exit`: with the userspace
# datapath its flow tables and groups die with it) and start it again from the database, under the
# lab's OVS lock. BEFORE_START, if given, is run (eval) once the old daemon is gone, before the new
# one starts. Registers an exit hook that starts it again if anything fails on the way.
lab_restart_vswitchd() {
  local before=${1:-}
  lab_on_exit 'pgrep -x ovs-vswitchd >/dev/null || /usr/share/openvswitch/scripts/ovs-ctl --no-ovsdb-server --no-monitor --system-id=random start >&2'
  (
    flock -w 60 9 || exit 1
    local pidfile=/var/run/openvswitch/ovs-vswitchd.pid old
    old=$(cat "$pidfile" 2>/dev/null || true)
    ovs-appctl -t ovs-vswitchd exit >/dev/null 2>&1 || true
    # Start it again only once the old one is gone (else ovs-ctl sees it "already running").
    # A zombie (nobody reaped it yet) counts as gone.
    for _ in $(seq 200); do
      [[ -n $old ]] && kill -0 "$old" 2>/dev/null || break
      [[ $(awk '{print $3}' "/proc/$old/stat" 2>/dev/null) == Z ]] && break
      sleep 0.1
    done
    [[ -n $before ]] && eval "$before"
    # 9>&-: the daemon must not inherit (and hold forever) the lock.
    /usr/share/openvswitch/scripts/ovs-ctl --no-ovsdb-server --no-monitor --system-id=random start >&2 9>&-
    pgrep -x ovs-vswitchd >/dev/null
  ) 9>/run/tusk-lab-ovs.lock
}

lab_require() {
  [[ $(id -u) -eq 0 ]] || lab_die "needs root"
  local t missing=()
  for t in ovs-vsctl ovs-ofctl ip tc ss ethtool python3 flock ping "$@"; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  ((${#missing[@]} == 0)) && return 0
  # Tool -> Debian package, installed through the repository's script.
  local -A pkg=([ovs-vsctl]=openvswitch-switch [ovs-ofctl]=openvswitch-switch [ip]=iproute2 [tc]=iproute2
                [ss]=iproute2 [ethtool]=ethtool [python3]=python3 [flock]=util-linux [ping]=iputils-ping
                [iperf3]=iperf3 [tshark]=tshark [tcpdump]=tcpdump)
  local pkgs=()
  for t in "${missing[@]}"; do pkgs+=("${pkg[$t]:-$t}"); done
  lab_log "installing ${pkgs[*]}"
  "$LAB_LIB_DIR/../../../scripts/ensure-packages.sh" "${pkgs[@]}" >&2 || lab_die "missing tools: ${missing[*]}"
}

# lab_init: checks, OVS, scratch directory, cleanup trap (EXIT; INT/TERM exit through it).
lab_init() {
  lab_require
  [[ ${#LAB_PREFIX} -le 8 && $LAB_PREFIX =~ ^[a-z][a-z0-9-]*$ ]] || lab_die "LAB_PREFIX '$LAB_PREFIX': 1-8 of [a-z0-9-], starting with a letter"
  lab_ovs_start
  LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}lab.XXXXXX")
  trap 'lab_cleanup' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# lab_on_exit CMD...: run CMD (a string, eval'd) at the start of cleanup, in registration order.
lab_on_exit() { LAB_EXIT_HOOKS+=("$*"); }

# ---- topology specs ----------------------------------------------------------------------------------------
_lab_reset_spec() {
  LAB_SWITCHES=(); LAB_DPIDS=(); LAB_LINKS=(); LAB_HOSTS=(); LAB_HOST_IP=(); LAB_HOST_MAC=(); LAB_HOST_AT=()
}
_lab_switch() { LAB_SWITCHES+=("$1"); LAB_DPIDS[$1]=$(($2 + LAB_DPID_BASE)); }
_lab_link() { LAB_LINKS+=("$1 $2"); }
_lab_host() { LAB_HOSTS+=("$1"); LAB_HOST_IP[$1]=$2; LAB_HOST_MAC[$1]=$3; LAB_HOST_AT[$1]=$4; }

# Same switches, dpids, ports and hosts as topologies/leaf-spine-2x2.yaml.
lab_spec_leaf_spine() {
  _lab_reset_spec
  LAB_TOPOLOGY=leaf-spine-2x2
  _lab_switch s1 1; _lab_switch s2 2; _lab_switch l1 11; _lab_switch l2 12
  _lab_link l1:3 s1:1; _lab_link l1:4 s2:1; _lab_link l2:3 s1:2; _lab_link l2:4 s2:2
  _lab_host h1 10.0.0.1/24 02:00:00:00:00:01 l1:1
  _lab_host h2 10.0.0.2/24 02:00:00:00:00:02 l1:2
  _lab_host h3 10.0.0.3/24 02:00:00:00:00:03 l2:1
  _lab_host h4 10.0.0.4/24 02:00:00:00:00:04 l2:2
}

# Same switches, dpids, ports and hosts as topologies/fat-tree-k4.yaml:
#   pod p (0..3): edge e<p>_0, e<p>_1 (dpid 4p+1, 4p+2), aggregation a<p>_0, a<p>_1 (4p+3, 4p+4);
#   core c0..c3 (dpid 17..20). Edge port 1,2: hosts; edge port 3 -> a<p>_0, port 4 -> a<p>_1
#   (aggregation port = edge index + 1). Aggregation a<p>_i port 3 -> core c<2i>, port 4 -> c<2i+1>
#   (core port = pod + 1). Host i (h0..h15): pod i/4, edge (i/2) mod 2, port (i mod 2) + 1,
#   address 10.<pod>.<edge>.<2 + i mod 2>/8, MAC 02:00:00:00:00:<i+1 in hex>.
lab_spec_fat_tree() {
  _lab_reset_spec
  LAB_TOPOLOGY=fat-tree-k4
  local p i j h
  for p in 0 1 2 3; do
    _lab_switch "e${p}_0" $((4*p + 1)); _lab_switch "e${p}_1" $((4*p + 2))
    _lab_switch "a${p}_0" $((4*p + 3)); _lab_switch "a${p}_1" $((4*p + 4))
  done
  for j in 0 1 2 3; do _lab_switch "c$j" $((17 + j)); done
  for p in 0 1 2 3; do
    for j in 0 1; do
      _lab_link "e${p}_$j:3" "a${p}_0:$((j + 1))"
      _lab_link "e${p}_$j:4" "a${p}_1:$((j + 1))"
    done
    for i in 0 1; do
      _lab_link "a${p}_$i:3" "c$((2*i)):$((p + 1))"
      _lab_link "a${p}_$i:4" "c$((2*i + 1)):$((p + 1))"
    done
  done
  for h in $(seq 0 15); do
    p=$((h / 4)); j=$(((h / 2) % 2)); i=$((h % 2))
    _lab_host "h$h" "10.$p.$j.$((2 + i))/8" "$(printf '02:00:00:00:00:%02x' $((h + 1)))" "e${p}_$j:$((i + 1))"
  done
}

_lab_write_spec() {
  local s l h
  {
    echo "# $LAB_TOPOLOGY (prefix $LAB_PREFIX)"
    for s in "${LAB_SWITCHES[@]}"; do echo "switch $s ${LAB_DPIDS[$s]}"; done
    for l in "${LAB_LINKS[@]}"; do echo "link $l"; done
    for h in "${LAB_HOSTS[@]}"; do echo "host $h ${LAB_HOST_IP[$h]} ${LAB_HOST_MAC[$h]} ${LAB_HOST_AT[$h]}"; done
  } >"$LAB_DIR/spec"
}

# ---- build ----------------------------------------------------------------------------------------------------
_lab_rate_bits() {   # "100mbit" -> 100000000
  local r=${1,,}
  case $r in
    *gbit) echo $(( ${r%gbit} * 1000000000 )) ;;
    *mbit) echo $(( ${r%mbit} * 1000000 )) ;;
    *kbit) echo $(( ${r%kbit} * 1000 )) ;;
    *bit)  echo $(( ${r%bit} )) ;;
    *) lab_die "rate '$1': use NNkbit, NNmbit or NNgbit" ;;
  esac
}

# lab_shape IFNAME RATE: tbf on the interface's egress ("" or none: remove). The burst covers at least
# 4 ms of traffic and 10 full frames, so the bucket is not the bottleneck at any timer resolution.
lab_shape() {
  local dev=$1 rate=${2:-}
  if [[ -z $rate || $rate == none ]]; then
    _lab_quiet tc qdisc del dev "$dev" root
    return 0
  fi
  local bits burst
  bits=$(_lab_rate_bits "$rate")
  burst=$((bits / 8 / 250)); ((burst < 15140)) && burst=15140
  _lab_run tc qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency "$LAB_TBF_LATENCY"
}

# lab_shape_link SW PORT RATE: reshape both ends of the fabric link at SW:PORT.
lab_shape_link() {
  local sw=$1 port=$2 rate=$3 l a b
  for l in "${LAB_LINKS[@]}"; do
    read -r a b <<<"$l"
    if [[ $a == "$sw:$port" || $b == "$sw:$port" ]]; then
      lab_shape "$(lab_if "${a%%:*}" "${a##*:}")" "$rate"
      lab_shape "$(lab_if "${b%%:*}" "${b##*:}")" "$rate"
      return 0
    fi
  done
  lab_die "no fabric link at $sw:$port"
}

_lab_prep_if() {   # up, no IPv6 chatter, no tx checksum offload (TCP stalls in the userspace datapath without this)
  local dev=$1
  _lab_quiet sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  _lab_run ethtool -K "$dev" tx off >/dev/null 2>&1 || lab_die "ethtool -K $dev tx off failed"
  _lab_run ip link set "$dev" up
}

# Builds the current spec: veths, namespaces, shaping, bridges with pinned dpids and ofport numbers.
lab_build() {
  [[ -n $LAB_DIR ]] || lab_die "call lab_init first"
  local s l a b h ifa ifb ns sw port
  for s in "${LAB_SWITCHES[@]}"; do
    [[ ${#s} -le 4 ]] || lab_die "switch name $s too long"
  done
  _lab_write_spec
  _lab_remove_objects   # leftovers of an earlier run with the same prefix
  lab_log "building $LAB_TOPOLOGY: ${#LAB_SWITCHES[@]} switches, ${#LAB_LINKS[@]} fabric links, ${#LAB_HOSTS[@]} hosts (prefix $LAB_PREFIX, fabric ${LAB_RATE:-unshaped})"

  # Fabric links: one veth pair each; both ends shaped, so each direction is limited.
  for l in "${LAB_LINKS[@]}"; do
    read -r a b <<<"$l"
    ifa=$(lab_if "${a%%:*}" "${a##*:}"); ifb=$(lab_if "${b%%:*}" "${b##*:}")
    _lab_run ip link add "$ifa" type veth peer name "$ifb" || lab_die "ip link add $ifa failed"
    _lab_prep_if "$ifa"; _lab_prep_if "$ifb"
  done

  # Hosts: a namespace each, eth0 inside, the peer is the switch port.
  for h in "${LAB_HOSTS[@]}"; do
    ns=$(lab_ns "$h"); sw=$(lab_host_switch "$h"); port=$(lab_host_port "$h")
    ifa=$(lab_if "$sw" "$port")
    _lab_run ip netns add "$ns" || lab_die "ip netns add $ns failed"
    _lab_run ip -n "$ns" link set lo up
    _lab_quiet ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    _lab_run ip link add "$ifa" type veth peer name eth0 netns "$ns" || lab_die "ip link add $ifa failed"
    _lab_prep_if "$ifa"
    _lab_run ip -n "$ns" link set eth0 address "${LAB_HOST_MAC[$h]}"
    _lab_run ip -n "$ns" addr add "${LAB_HOST_IP[$h]}" dev eth0
    _lab_run ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1 || lab_die "ethtool in $ns failed"
    _lab_run ip -n "$ns" link set eth0 up
  done
  if ((LAB_STATIC_ARP)); then
    local o
    for h in "${LAB_HOSTS[@]}"; do
      for o in "${LAB_HOSTS[@]}"; do
        [[ $o == "$h" ]] && continue
        echo "neigh replace $(lab_ip "$o") lladdr ${LAB_HOST_MAC[$o]} dev eth0 nud permanent"
      done | _lab_run ip -n "$(lab_ns "$h")" -batch - || lab_die "static ARP in $h failed"
    done
  fi

  # Bridges and ports in one OVSDB transaction. Every port gets a QoS of type linux-noop: without it
  # OVS deletes any root qdisc it did not install (our tbf) whenever it reconfigures the port.
  local args=(-- --id=@noop create qos type=linux-noop "external_ids:tusk-lab=$LAB_PREFIX")
  for s in "${LAB_SWITCHES[@]}"; do
    args+=(-- add-br "$(lab_br "$s")"
           -- set bridge "$(lab_br "$s")" datapath_type=netdev fail_mode=secure protocols=OpenFlow13
              "other-config:datapath-id=$(lab_dpid_hex "$s")" other-config:disable-in-band=true)
  done
  for l in "${LAB_LINKS[@]}"; do
    read -r a b <<<"$l"
    for s in "$a" "$b"; do
      ifa=$(lab_if "${s%%:*}" "${s##*:}")
      args+=(-- add-port "$(lab_br "${s%%:*}")" "$ifa" qos=@noop -- set interface "$ifa" "ofport_request=${s##*:}")
    done
  done
  for h in "${LAB_HOSTS[@]}"; do
    sw=$(lab_host_switch "$h"); port=$(lab_host_port "$h"); ifa=$(lab_if "$sw" "$port")
    args+=(-- add-port "$(lab_br "$sw")" "$ifa" qos=@noop -- set interface "$ifa" "ofport_request=$port")
  done
  lab_vsctl "${args[@]}" >/dev/null || lab_die "ovs-vsctl could not create the bridges"
  lab_check_ports
  # Shape only now: adding a port (and switching it to linux-noop) removes the root qdisc once.
  for l in "${LAB_LINKS[@]}"; do
    read -r a b <<<"$l"
    lab_shape "$(lab_if "${a%%:*}" "${a##*:}")" "$LAB_RATE"
    lab_shape "$(lab_if "${b%%:*}" "${b##*:}")" "$LAB_RATE"
  done
  for h in "${LAB_HOSTS[@]}"; do
    lab_shape "$(lab_if "$(lab_host_switch "$h")" "$(lab_host_port "$h")")" "$LAB_HOST_RATE"
  done
}

# Verifies every bridge port got its requested OpenFlow port number and every bridge its dpid.
lab_check_ports() {
  local l a b s h ifa got want bad=0 i
  local pairs=()
  for l in "${LAB_LINKS[@]}"; do read -r a b <<<"$l"; pairs+=("$a" "$b"); done
  for h in "${LAB_HOSTS[@]}"; do pairs+=("${LAB_HOST_AT[$h]}"); done
  for s in "${pairs[@]}"; do
    ifa=$(lab_if "${s%%:*}" "${s##*:}"); want=${s##*:}
    for i in $(seq 50); do
      got=$(ovs-vsctl --timeout=10 get interface "$ifa" ofport 2>/dev/null)
      [[ $got == "$want" ]] && break
      sleep 0.1
    done
    if [[ $got != "$want" ]]; then
      lab_log "port $ifa: ofport $got, wanted $want ($(ovs-vsctl get interface "$ifa" error 2>/dev/null))"; bad=1
    fi
  done
  for s in "${LAB_SWITCHES[@]}"; do
    got=$(ovs-vsctl --timeout=10 get bridge "$(lab_br "$s")" datapath_id | tr -d '"')
    [[ $got == "$(lab_dpid_hex "$s")" ]] || { lab_log "bridge $(lab_br "$s"): datapath_id $got, wanted $(lab_dpid_hex "$s")"; bad=1; }
  done
  ((bad == 0)) || lab_die "bridge ports or datapath ids are not as requested"
}

lab_leaf_spine() { lab_spec_leaf_spine; lab_build; }
lab_fat_tree() { lab_spec_fat_tree; lab_build; }

# ---- forwarding -----------------------------------------------------------------------------------------------
# lab_static_routes [low|high|N]: per-destination IPv4 and ARP output rules on every switch (priority
# 100, cookie 0x7e57), shortest paths, fixed choice among equal-cost uplinks (see lab_routes.py).
# No controller: the bridges stay fail_mode=secure.
lab_static_routes() {
  local pick=${1:-low} s
  python3 "$LAB_LIB_DIR/lab_routes.py" "$LAB_DIR/spec" "$LAB_DIR/flows" "$pick" || lab_die "route computation failed"
  for s in "${LAB_SWITCHES[@]}"; do
    sed -i 's/^/cookie=0x7e57,/' "$LAB_DIR/flows/$s.flows"
    lab_ofctl "$s" add-flows "$LAB_DIR/flows/$s.flows" || lab_die "add-flows on $s failed"
  done
  lab_log "static routes installed (equal-cost choice: $pick)"
}

# lab_set_controller TARGET... : every bridge connects to TARGET (tcp:127.0.0.1:PORT, ssl:127.0.0.1:PORT).
# For ssl: targets, call lab_set_ssl first (note: the SSL settings are global to this OVS instance).
lab_set_controller() {
  local args=() s
  for s in "${LAB_SWITCHES[@]}"; do args+=(-- set-controller "$(lab_br "$s")" "$@"); done
  lab_vsctl "${args[@]}"
}
lab_del_controller() {
  local args=() s
  for s in "${LAB_SWITCHES[@]}"; do args+=(-- del-controller "$(lab_br "$s")"); done
  lab_vsctl "${args[@]}"
}
lab_set_ssl() { lab_vsctl set-ssl "$1" "$2" "$3"; }   # PRIVATE-KEY CERTIFICATE CA-CERT

# lab_wait_connected [TIMEOUT]: until every bridge reports is_connected=true for its controller.
lab_wait_connected() {
  local deadline=$((SECONDS + ${1:-20})) s ok
  while ((SECONDS < deadline)); do
    ok=1
    for s in "${LAB_SWITCHES[@]}"; do
      local uuids u
      uuids=$(ovs-vsctl --timeout=5 get bridge "$(lab_br "$s")" controller 2>/dev/null | tr -d '[],')
      [[ -n $uuids ]] || { ok=0; break; }
      for u in $uuids; do
        [[ $(ovs-vsctl --timeout=5 --bare --columns=is_connected list controller "$u" 2>/dev/null) == true ]] || { ok=0; break 2; }
      done
    done
    ((ok)) && return 0
    sleep 0.2
  done
  return 1
}

# ---- sFlow ----------------------------------------------------------------------------------------------------------
# lab_sflow_enable PORT [SAMPLING=64] [POLLING=1] [HEADER=128] [HOST=127.0.0.1]: one sFlow row per bridge
# (agent=lo), so each bridge is its own sub-agent. Start the collector FIRST: OVS sends from a
# connected UDP socket and loses datagrams while nothing listens.
lab_sflow_enable() {
  local port=$1 sampling=${2:-64} polling=${3:-1} header=${4:-128} host=${5:-127.0.0.1} s args=() i=0
  for s in "${LAB_SWITCHES[@]}"; do
    args+=(-- "--id=@s$i" create sflow agent=lo "target=\"$host:$port\"" "sampling=$sampling" "polling=$polling" "header=$header"
           -- set bridge "$(lab_br "$s")" "sflow=@s$i")
    i=$((i + 1))
  done
  lab_vsctl "${args[@]}" >/dev/null
}
# lab_sflow_target HOST:PORT: point every bridge's sFlow at another collector.
lab_sflow_target() {
  local s args=()
  for s in "${LAB_SWITCHES[@]}"; do
    args+=(-- set sflow "$(ovs-vsctl --timeout=10 get bridge "$(lab_br "$s")" sflow)" "targets=\"$1\"")
  done
  lab_vsctl "${args[@]}"
}
lab_sflow_disable() {
  local s args=()
  for s in "${LAB_SWITCHES[@]}"; do args+=(-- clear bridge "$(lab_br "$s")" sflow); done
  lab_vsctl "${args[@]}"
}

# lab_ovs_map: JSON lines, one per bridge port as OVS sees it:
#   {"bridge","switch","datapathId" (decimal),"name","ofport","ifindex"}
lab_ovs_map() {
  local s br dpid ifc
  for s in "${LAB_SWITCHES[@]}"; do
    br=$(lab_br "$s")
    dpid=$((16#$(ovs-vsctl --timeout=10 get bridge "$br" datapath_id | tr -d '"')))
    for ifc in "$br" $(ovs-vsctl --timeout=10 list-ifaces "$br"); do
      printf '{"bridge":"%s","switch":"%s","datapathId":%s,"name":"%s","ofport":%s,"ifindex":%s}\n' \
        "$br" "$s" "$dpid" "$ifc" \
        "$(ovs-vsctl --timeout=10 get interface "$ifc" ofport)" "$(ovs-vsctl --timeout=10 get interface "$ifc" ifindex)"
    done
  done
}

# ---- hosts and processes ----------------------------------------------------------------------------------------
# lab_exec HOST CMD...: run in the host's namespace.
lab_exec() { local h=$1; shift; ip netns exec "$(lab_ns "$h")" "$@"; }

# lab_bg NAME HOST|- CMD...: start CMD in the background (in HOST's namespace, or "-" for the root one),
# stdout to $LAB_DIR/NAME.out, stderr to $LAB_DIR/NAME.err; its pid is in LAB_LAST_PID (`wait` on it for
# the exit status) and lab_cleanup stops it if it still runs.
lab_bg() {
  local name=$1 h=$2; shift 2
  if [[ $h == - ]]; then
    "$@" >"$LAB_DIR/$name.out" 2>"$LAB_DIR/$name.err" &
  else
    ip netns exec "$(lab_ns "$h")" "$@" >"$LAB_DIR/$name.out" 2>"$LAB_DIR/$name.err" &
  fi
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}
lab_out() { echo "$LAB_DIR/$1.out"; }   # NAME -> stdout file of lab_bg NAME
lab_err() { echo "$LAB_DIR/$1.err"; }

# lab_stop PID...: TERM, then KILL after 3 s; only ever one of our own pids.
lab_stop() {
  local p i
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

# lab_free_port udp|tcp: an unused port on 127.0.0.1 (the kernel picks it).
lab_free_port() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
EOF
}

# lab_wait_listen udp|tcp PORT [HOST|-] [TIMEOUT=10] [PID]: until a socket listens on PORT (in HOST's
# namespace); gives up early when PID (the process meant to listen) has exited.
lab_wait_listen() {
  local proto=$1 port=$2 h=${3:--} deadline=$((SECONDS + ${4:-10})) pid=${5:-} flag=-lnt
  [[ $proto == udp ]] && flag=-lnu
  while ((SECONDS < deadline)); do
    [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && return 1
    if [[ $h == - ]]; then
      ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q . && return 0
    else
      ip netns exec "$(lab_ns "$h")" ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q . && return 0
    fi
    sleep 0.1
  done
  return 1
}

# lab_ping HOST DSTHOST [TRIES=5]: one ping succeeds within TRIES attempts.
lab_ping() {
  local i
  for i in $(seq "${3:-5}"); do
    lab_exec "$1" ping -n -q -c 1 -W 1 "$(lab_ip "$2")" >/dev/null 2>&1 && return 0
  done
  return 1
}

# lab_ping_all [TRIES=5]: every ordered host pair; prints the failures, non-zero if any.
lab_ping_all() {
  local a b bad=0
  for a in "${LAB_HOSTS[@]}"; do
    for b in "${LAB_HOSTS[@]}"; do
      [[ $a == "$b" ]] && continue
      lab_ping "$a" "$b" "${1:-5}" || { lab_log "ping $a -> $b failed"; bad=1; }
    done
  done
  return $bad
}

# ---- cleanup ------------------------------------------------------------------------------------------------------------
_lab_remove_objects() {
  local s l a b h ns p
  for s in "${LAB_SWITCHES[@]}"; do _lab_quiet ovs-vsctl --timeout=30 --if-exists del-br "$(lab_br "$s")"; done
  # QoS rows are roots in the OVS schema: they outlive the ports that used them.
  for s in $(ovs-vsctl --timeout=10 --bare --columns=_uuid find qos "external_ids:tusk-lab=$LAB_PREFIX" 2>/dev/null); do
    _lab_quiet ovs-vsctl --timeout=10 destroy qos "$s"
  done
  for h in "${LAB_HOSTS[@]}"; do
    ns=$(lab_ns "$h")
    [[ -e /run/netns/$ns ]] || continue
    # Anything still running in a namespace this lab owns was started by this lab.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    _lab_quiet ip netns del "$ns"
  done
  # Deleting one end of a veth removes its peer and both qdiscs.
  for l in "${LAB_LINKS[@]}"; do
    read -r a b <<<"$l"
    for s in "$a" "$b"; do
      ip link show "$(lab_if "${s%%:*}" "${s##*:}")" >/dev/null 2>&1 && _lab_quiet ip link del "$(lab_if "${s%%:*}" "${s##*:}")"
    done
  done
  for h in "${LAB_HOSTS[@]}"; do
    s=${LAB_HOST_AT[$h]}
    ip link show "$(lab_if "${s%%:*}" "${s##*:}")" >/dev/null 2>&1 && _lab_quiet ip link del "$(lab_if "${s%%:*}" "${s##*:}")"
  done
  return 0
}

# lab_cleanup: idempotent; runs on EXIT. Hooks, then our processes, bridges, namespaces, veths, scratch.
# Called by hand it ends the lab (the trap stays, harmlessly); call lab_init again for another one.
lab_cleanup() {
  local rc=$? hook
  if ((LAB_KEEP)); then
    lab_log "LAB_KEEP=1: leaving the lab in place ($LAB_DIR); remove it with:"
    lab_log "  bash -c 'LAB_PREFIX=$LAB_PREFIX; source $LAB_LIB_DIR/lab.sh; lab_spec_$([[ $LAB_TOPOLOGY == fat* ]] && echo fat_tree || echo leaf_spine); lab_cleanup'; rm -rf $LAB_DIR"
    return $rc
  fi
  for hook in "${LAB_EXIT_HOOKS[@]}"; do eval "$hook" || true; done
  LAB_EXIT_HOOKS=()
  ((${#LAB_PIDS[@]})) && lab_stop "${LAB_PIDS[@]}"
  LAB_PIDS=()
  _lab_remove_objects
  if ((LAB_STOP_OVS && LAB_STARTED_OVS)) && [[ -z $(ovs-vsctl --timeout=5 list-br 2>/dev/null) ]]; then
    _lab_quiet /usr/share/openvswitch/scripts/ovs-ctl stop
  fi
  [[ -n $LAB_DIR && -d $LAB_DIR && $LAB_DIR == /tmp/"$LAB_PREFIX"lab.* ]] && rm -rf "$LAB_DIR"
  return $rc
}

# lab_purge PREFIX: remove leftovers of a crashed run by name pattern (manual use only, not from tests
# that may run beside others with a longer prefix that starts with PREFIX).
lab_purge() {
  local pfx=${1:?prefix} x
  [[ ${#pfx} -ge 2 ]] || lab_die "refusing a prefix shorter than 2 characters"
  for x in $(ovs-vsctl --timeout=10 list-br | grep "^$pfx"); do _lab_quiet ovs-vsctl --timeout=30 del-br "$x"; done
  for x in $(ip netns list | awk '{print $1}' | grep "^$pfx"); do
    local p; for p in $(ip netns pids "$x"); do kill -KILL "$p" 2>/dev/null || true; done
    _lab_quiet ip netns del "$x"
  done
  for x in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$pfx"); do _lab_quiet ip link del "$x"; done
  for x in $(ovs-vsctl --timeout=10 --bare --columns=_uuid find qos "external_ids:tusk-lab=$pfx" 2>/dev/null); do
    _lab_quiet ovs-vsctl --timeout=10 destroy qos "$x"
  done
}
