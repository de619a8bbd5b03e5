#!/usr/bin/env bash
# The OpenFlow connection to a switch drops in the middle of a batch, twice: once while the fabric is
# being programmed, once while an elephant entry is being installed under traffic. Promise: the batch
# is retried or reported, and the switch's tables end equal to the desired state.
#
# Lab: leaf-spine 2x2 (100 Mbit/s fabric links, sFlow 1-in-100, 1 s rounds) with `tusk controller`.
# l1 reaches the controller through a TCP proxy (lib/of_cut_proxy.py) that reads the controller's
# messages and, once each, relays half of a message and closes both sides:
#   - `fabric`: the first FLOW_MOD or GROUP_MOD l1 is sent (l1's first reconciliation);
#   - `elephant`: the first elephant FLOW_MOD (cookie 0x5453...) l1 is sent.
# Two iperf3 TCP elephants h1 -> h3 and h2 -> h4 run on client ports that ECMP collides.
#
# Checks, from the switches (ovs-ofctl), the proxy's log and iperf3's JSON:
#   - both cuts happened, each in the middle of a message;
#   - the cut placement is reported: the decision log has a `failed` decision at the cut, and a later
#     decision for an elephant is `installed`;
#   - at the end, l1's fabric entries (cookie 0x5446...) and SELECT groups equal `show-fabric`'s, with
#     no duplicate and nothing else; l1 holds exactly one elephant entry, the one of the last installed
#     decision (its 5-tuple and output port);
#   - traffic never stopped: no 0.5 s iperf3 interval below 1 Mbit/s;
#   - the controller keeps running.
# The check fails when the mechanism is missing: a batch taken as installed when its connection died
# would leave no elephant entry on l1 (or one the decision log does not explain), and a reconnecting
# switch that is not reconciled keeps a half-programmed fabric (groups or entries missing).
#
# Usage (root): TUSK_BIN=.build/release/tusk bash Tests/e2e/test-fault-conn-drop.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${TUSK_BIN:?set TUSK_BIN to the tusk binary (make e2e does)}"
LAB_PREFIX=${LAB_PREFIX:-tkcd-}
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
"$TUSK_BIN" controller show-fabric --topology "$topo" >"$LAB_DIR/fabric.txt"
for h in h1 h2 h3 h4; do lab_exec "$h" sysctl -qw net.ipv4.tcp_max_tw_buckets=0; done
ofport=$(lab_free_port tcp)
sfport=$(lab_free_port udp)
proxyport=$(lab_free_port tcp)
policy=$LAB_DIR/policy.yaml
ctl_policy "$policy" tusk
ctl_start --topology "$topo" --listen "127.0.0.1:$ofport" --sflow "127.0.0.1:$sfport" --policy "$policy" --echo-interval 2 \
  --decisions "$LAB_DIR/decisions.jsonl" || fail "controller did not start"
lab_bg proxy - python3 "$here/lib/of_cut_proxy.py" "$proxyport" "$ofport" "$LAB_DIR/proxy.log" fabric elephant
lab_wait_listen tcp "$proxyport" - 10 || fail "the proxy does not listen"
ctl_connect "$ofport" "l1=$proxyport"
ctl_wait_reconciled 30 || fail "switches not reconciled"
grep -q 'cut fabric' "$LAB_DIR/proxy.log" || fail "the fabric cut did not happen: $(cat "$LAB_DIR/proxy.log")"
lab_sflow_enable "$sfport" 100 2
lab_ping_all >/dev/null || fail "hosts do not reach each other after the fabric cut"
lab_bg srv3 h3 iperf3 -s -B "$(lab_ip h3)" -p 5201
lab_bg srv4 h4 iperf3 -s -B "$(lab_ip h4)" -p 5201
lab_wait_listen tcp 5201 h3 10 || fail "iperf3 server on h3"
lab_wait_listen tcp 5201 h4 10 || fail "iperf3 server on h4"

# The first elephant entry is cut on its way; wait for the one that follows.
ctl_place_elephant 30 || fail "no elephant placed"
grep -q 'cut elephant' "$LAB_DIR/proxy.log" || fail "the elephant cut did not happen: $(cat "$LAB_DIR/proxy.log")"
sleep 3
wait "${CTL_IPERF_PIDS[@]}" || fail "iperf3 failed"
sed 's/^/  proxy: /' "$LAB_DIR/proxy.log"

# The tables, while the elephant entry still holds (idle timeout 5 s).
lab_ofctl l1 dump-flows >"$LAB_DIR/l1.flows"
lab_ofctl l1 dump-groups >"$LAB_DIR/l1.groups"
kill -0 "$CTL_PID" || fail "controller died"

python3 - "$LAB_DIR" <<'EOF' || fail "the tables or the decisions are not what the cuts should leave"
import json, re, sys
d = sys.argv[1]
ok = True
def check(c, m):
    global ok
    print(("ok:   " if c else "FAIL: ") + m)
    ok &= bool(c)

cuts = [l for l in open(f"{d}/proxy.log") if " cut " in l]
mid = [l for l in cuts if (m := re.search(r"(\d+) bytes, relayed (\d+)", l)) and 0 < int(m[2]) < int(m[1])]
check(len(cuts) == 2 and len(mid) == 2, f"two cuts, each in the middle of a message ({len(cuts)} cuts, {len(mid)} mid-message)")

ds = [json.loads(l) for l in open(f"{d}/decisions.jsonl")]
failed = [x for x in ds if x["status"] == "failed"]
installed = [x for x in ds if x["status"] == "installed"]
check(failed, f"the cut placement was reported: a failed decision ({[(x['status'], x.get('error', '')) for x in ds]})")
check(installed and ds.index(installed[-1]) > ds.index(failed[0]) if failed and installed else False,
      "a later decision was installed")

# l1's fabric: entries and groups equal show-fabric's, nothing missing, nothing twice, nothing else.
want_flows, want_groups = set(), set()
for line in open(f"{d}/fabric.txt"):
    f = line.split()
    if f[0] == "flow" and f[1] == "l1":
        want_flows.add((f[3].lower(), f[4], f[5], f[6]))
    if f[0] == "group" and f[1] == "l1":
        want_groups.add((f[3], f[4], f[5]))
got_flows, ts = [], []
for line in open(f"{d}/l1.flows"):
    # dump-flows leaves out priority=32768 (the default) and spells eth_type 0x800/0x806 ip/arp.
    m = re.search(r"cookie=(0x[0-9a-f]+),.* (?:priority=(\d+),?)?(\S*) actions=(\S+)", line)
    if not m: continue
    cookie, prio, match, actions = m.groups()
    prio = prio or "32768"
    if cookie.startswith("0x5453"):
        ts.append(line.strip())
    else:
        got_flows.append((cookie, prio, match, actions))
norm = lambda m: ",".join(sorted({"ip": "eth_type=0x800", "arp": "eth_type=0x806"}.get(x, x) for x in m.split(",") if x))
want_n = {(c, p, norm(m), a) for c, p, m, a in want_flows}
got_n = [(c, p, norm(m), a) for c, p, m, a in got_flows]
missing = want_n - set(got_n)
extra = [g for g in got_n if g not in want_n]
check(not missing and not extra and len(got_n) == len(set(got_n)),
      f"l1's fabric entries equal show-fabric's ({len(got_n)} entries; missing {sorted(missing)[:3]}, extra {extra[:3]})")
groups = []
for line in open(f"{d}/l1.groups"):
    m = re.search(r"group_id=(\d+),type=(\w+)", line)
    if m:
        ports = ",".join(dict.fromkeys(re.findall(r"output:(\d+)", line)))
        groups.append((m[1], m[2], ports))
check(sorted(groups) == sorted(want_groups), f"l1's groups equal show-fabric's ({groups} vs {sorted(want_groups)})")

last = installed[-1] if installed else None
check(len(ts) == 1, f"l1 holds exactly one elephant entry ({len(ts)})")
if last and ts:
    key = f"{last['src']},{last['dst']},{last['proto']},{last['sport']},{last['dport']}"
    check(f"nw_src={last['src']}" in ts[0] and f"tp_src={last['sport']}" in ts[0],
          f"it is the last installed decision's flow ({key}): {ts[0][:160]}")

for h in ("h1", "h2"):
    r = json.load(open(f"{d}/{h}.json"))
    ivs = [i["sum"]["bits_per_second"] / 1e6 for i in r["intervals"]]
    low = sum(1 for v in ivs if v < 1)
    check(ivs and low == 0, f"{h}: {len(ivs)} intervals of 0.5 s, {low} below 1 Mbit/s (min {min(ivs):.1f})")
sys.exit(0 if ok else 1)
EOF
echo "ok: the OpenFlow connection dropped mid-batch twice; tables equal the desired state, traffic kept flowing"
