#!/usr/bin/env bash
# OpenFlow 1.3 against Open vSwitch, both ways, on loopback only:
#  1. `ovs-ofctl ofp-print HEX` must decode Tusk's encoding of each example message
#     (`tusk openflow examples`) to the expected text;
#  2. a fake switch (test-openflow-fake-switch.py) captures what `ovs-ofctl -O OpenFlow13
#     add-flow/add-group/add-meter/...` sends, and Tusk must decode those bytes to the right
#     fields and re-encode them byte for byte -- including a SELECT group with weighted buckets.
# Needs: $TUSK_BIN, ovs-ofctl (openvswitch-switch), python3. No root, no bridge.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tusk=${TUSK_BIN:?set TUSK_BIN to the tusk binary}
command -v ovs-ofctl >/dev/null || "$here/../../scripts/ensure-packages.sh" openvswitch-switch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }

# --- 1. Tusk encodes, ovs-ofctl decodes --------------------------------------------------------
# name|text ovs-ofctl must print (fixed strings, all must appear)
expect=(
  "hello|OFPT_HELLO (OF1.3)|version bitmap: 0x04"
  "error|OFPT_ERROR (OF1.3)|OFPBMC_BAD_PREREQ|OFPT_BARRIER_REQUEST"
  "echo_request|OFPT_ECHO_REQUEST (OF1.3)|4 bytes of payload"
  "features_request|OFPT_FEATURES_REQUEST (OF1.3)"
  "set_config|OFPT_SET_CONFIG (OF1.3)|frags=normal miss_send_len=65535"
  "flow_mod_elephant|ADD priority=40000,tcp,in_port=3,nw_src=10.0.1.2,nw_dst=10.2.0.0/16,tp_src=40000,tp_dst=5201|cookie:0x7475736b00000001 idle:30 hard:300 send_flow_rem actions=output:7"
  "flow_mod_many_fields|MOD_STRICT table:1 priority=100,udp,in_port=1,dl_vlan=10,dl_vlan_pcp=3,dl_src=02:00:00:00:00:00/ff:ff:ff:00:00:00,dl_dst=02:00:00:00:00:01,nw_src=192.168.1.0/24,nw_dst=10.0.0.9,nw_tos=184,tp_src=53,tp_dst=5353|cookie:0x10/0xff actions=meter:1,push_vlan:0x8100,set_field:4116->vlan_vid,set_queue:2,dec_ttl,output:2,write_metadata:0xab/0xff,goto_table:2"
  "flow_mod_ipv6|ADD priority=200,icmp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::/32,icmp_type=128,icmp_code=0 actions=clear_actions,write_actions(group:5)"
  "flow_mod_arp|ADD priority=300,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00 actions=CONTROLLER:128"
  "flow_mod_sctp|ADD priority=5,sctp,tp_src=1000,tp_dst=2000 actions=NORMAL"
  "flow_mod_icmp|ADD priority=6,icmp,icmp_type=8,icmp_code=0 actions=mod_nw_ttl:9,output:1"
  "flow_mod_delete_strict|DEL_STRICT priority=40000,ip,in_port=3 out_port:7"
  "flow_mod_delete_all|DEL table:255"
  "group_mod_select|ADD group_id=1,type=select,bucket=weight:50,actions=output:1,bucket=weight:30,actions=output:2,bucket=weight:20,actions=set_field:02:00:00:00:00:03->eth_dst,output:3"
  "group_mod_ff|ADD group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2"
  "group_mod_all|MOD group_id=3,type=all,bucket=actions=output:1,bucket=actions=output:4"
  "group_mod_indirect|ADD group_id=4,type=indirect,bucket=actions=group:1"
  "meter_mod|ADD meter=1 kbps burst stats bands=|type=drop rate=10000 burst_size=1000|type=dscp_remark rate=5000 burst_size=500 prec_level=1"
  "packet_out|OFPT_PACKET_OUT (OF1.3)|in_port=CONTROLLER actions=output:1 data_len=60"
  "mp_desc|OFPST_DESC request (OF1.3)"
  "mp_flow|OFPST_FLOW request (OF1.3)|: ip"
  "mp_aggregate|OFPST_AGGREGATE request (OF1.3)|out_port=7"
  "mp_table|OFPST_TABLE request (OF1.3)"
  "mp_port_stats|OFPST_PORT request (OF1.3)|port_no=ANY"
  "mp_port_desc|OFPST_PORT_DESC request (OF1.3)"
  "mp_group|OFPST_GROUP request (OF1.3)|group_id=ALL"
  "mp_group_desc|OFPST_GROUP_DESC request (OF1.3)"
  "mp_group_features|OFPST_GROUP_FEATURES request (OF1.3)"
  "mp_meter|OFPST_METER request (OF1.3)|meter=all"
  "barrier_request|OFPT_BARRIER_REQUEST (OF1.3)"
  "role_request|OFPT_ROLE_REQUEST (OF1.3)|generation_id=7"
  "get_async_request|OFPT_GET_ASYNC_REQUEST (OF1.3)"
  "set_async|OFPT_SET_ASYNC (OF1.3)|PACKET_IN: no_match action|FLOW_REMOVED: idle hard delete group_delete"
)
"$tusk" openflow examples > "$work/examples.txt" || { echo "FAIL tusk openflow examples"; exit 1; }
for e in "${expect[@]}"; do
  IFS='|' read -r -a parts <<< "$e"
  name=${parts[0]}
  hexbytes=$(awk -v n="$name" '$1 == n { print $2 }' "$work/examples.txt")
  if [[ -z $hexbytes ]]; then bad "ofp-print $name: tusk has no such example"; continue; fi
  text=$(ovs-ofctl ofp-print "$hexbytes" 2>&1)
  missing=""
  for want in "${parts[@]:1}"; do
    grep -qF -- "$want" <<< "$text" || missing+=" [$want]"
  done
  if grep -qE "decode error|WARN|\*\*\*" <<< "$text"; then missing+=" [no warnings or decode errors]"; fi
  if [[ -z $missing ]]; then ok "ofp-print $name"; else bad "ofp-print $name: missing$missing"; echo "$text" | sed 's/^/      /'; fi
done
n_examples=$(wc -l < "$work/examples.txt")
if (( n_examples != ${#expect[@]} )); then bad "tusk has $n_examples examples, this test checks ${#expect[@]}"; fi

# --- 2. ovs-ofctl encodes, Tusk decodes --------------------------------------------------------
# Each command runs against a fresh fake switch; its capture is decoded by Tusk and checked.
capture() { # name, ovs-ofctl args...
  local name=$1; shift
  local out="$work/$name.bin"
  : > "$out"
  python3 "$here/test-openflow-fake-switch.py" 0 "$out" 1 15 > "$work/$name.port" &
  local pid=$!
  for _ in $(seq 50); do [[ -s "$work/$name.port" ]] && break; sleep 0.1; done
  local port; port=$(cat "$work/$name.port")
  if ! timeout 15 ovs-ofctl --no-names -O OpenFlow13 "$1" "tcp:127.0.0.1:$port" "${@:2}" > "$work/$name.ofctl" 2>&1; then
    bad "ovs-ofctl $name: $(head -c 300 "$work/$name.ofctl")"
  fi
  wait "$pid"
  "$tusk" openflow decode --reencode "$out" > "$work/$name.json" 2>&1 || true
}

capture add_flow add-flow "table=2,priority=1234,cookie=0x55,idle_timeout=30,hard_timeout=60,tcp,in_port=3,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:00/ff:ff:ff:00:00:00,dl_vlan=100,dl_vlan_pcp=2,nw_src=10.0.0.0/8,nw_dst=192.168.1.7,nw_tos=32,tp_src=1234,tp_dst=80,actions=set_queue:3,dec_ttl,group:7,output:2"
capture add_flow_v6 add-flow "priority=7,udp6,ipv6_src=2001:db8::/32,ipv6_dst=2001:db8::9,udp_src=53,udp_dst=5353,actions=write_actions(output:4),goto_table:3"
capture add_flow_arp add-flow "priority=8,arp,arp_op=2,arp_spa=10.1.0.0/16,arp_tpa=10.1.2.3,arp_sha=02:00:00:00:00:0a,arp_tha=02:00:00:00:00:0b,actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:1"
capture add_flow_icmp add-flow "priority=9,icmp,icmp_type=3,icmp_code=1,actions=CONTROLLER:64"
capture mod_flows_strict mod-flows --strict "priority=1234,tcp,tp_dst=80,actions=output:5"
capture del_flows del-flows "tcp,tp_dst=80"
capture add_group_select add-group "group_id=7,type=select,bucket=weight:60,output:1,bucket=weight:30,output:2,bucket=weight:10,mod_dl_dst:02:00:00:00:00:09,output:3"
capture add_group_ff add-group "group_id=8,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2"
capture add_group_all add-group "group_id=9,type=all,bucket=output:1,bucket=output:2"
capture add_group_indirect add-group "group_id=10,type=indirect,bucket=output:4"
capture add_meter add-meter "meter=5,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100"
capture dump_ports dump-ports
capture dump_groups dump-groups
capture dump_ports_desc dump-ports-desc

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def load(name):
    path = os.path.join(work, name + ".json")
    msgs = [json.loads(l) for l in open(path) if l.strip()]
    return msgs
def first(msgs, t):
    for m in msgs:
        if m.get("type") == t:
            return m
    raise AssertionError(f"no {t} in {[m.get('type') or m for m in msgs]}")
def fields(match):
    return {f["field"]: (f["value"], f["mask"]) for f in match["oxm_fields"]}
def actions(acts):
    out = []
    for a in acts:
        d = {k: v for k, v in a.items() if k not in ("type", "len")}
        if a["action"] == "set_field":
            d["field"] = (a["field"]["field"], a["field"]["value"])
        out.append(d)
    return out
checks = {}
def check(name):
    def deco(fn):
        checks[name] = fn
        return fn
    return deco

@check("add_flow")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    assert (f["command"], f["table_id"], f["priority"], f["cookie"], f["idle_timeout"], f["hard_timeout"]) == (0, 2, 1234, 0x55, 30, 60), f
    m = fields(f["match"])
    assert m["in_port"] == (3, None) and m["eth_type"] == (0x0800, None) and m["ip_proto"] == (6, None), m
    assert m["eth_src"] == ("02:00:00:00:00:01", None) and m["eth_dst"] == ("02:00:00:00:00:00", "ff:ff:ff:00:00:00"), m
    assert m["vlan_vid"] == (0x1000 | 100, None) and m["vlan_pcp"] == (2, None), m
    assert m["ipv4_src"] == ("10.0.0.0", "255.0.0.0") and m["ipv4_dst"] == ("192.168.1.7", None), m
    assert m["ip_dscp"] == (8, None) and m["tcp_src"] == (1234, None) and m["tcp_dst"] == (80, None), m
    ins = f["instructions"]
    assert [i["instruction"] for i in ins] == ["apply_actions"], ins
    assert actions(ins[0]["actions"]) == [
        {"action": "set_queue", "queue_id": 3}, {"action": "dec_nw_ttl"}, {"action": "group", "group_id": 7},
        {"action": "output", "port": 2, "max_len": 0}], ins

@check("add_flow_v6")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    m = fields(f["match"])
    assert m["eth_type"] == (0x86DD, None) and m["ip_proto"] == (17, None), m
    assert m["ipv6_src"] == ("2001:db8::", "ffff:ffff::") and m["ipv6_dst"] == ("2001:db8::9", None), m
    assert m["udp_src"] == (53, None) and m["udp_dst"] == (5353, None), m
    ins = f["instructions"]
    assert [i["instruction"] for i in ins] == ["write_actions", "goto_table"], ins
    assert actions(ins[0]["actions"]) == [{"action": "output", "port": 4, "max_len": 0}] and ins[1]["table_id"] == 3, ins

@check("add_flow_arp")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    m = fields(f["match"])
    assert m["eth_type"] == (0x0806, None) and m["arp_op"] == (2, None), m
    assert m["arp_spa"] == ("10.1.0.0", "255.255.0.0") and m["arp_tpa"] == ("10.1.2.3", None), m
    assert m["arp_sha"] == ("02:00:00:00:00:0a", None) and m["arp_tha"] == ("02:00:00:00:00:0b", None), m
    assert actions(f["instructions"][0]["actions"]) == [
        {"action": "push_vlan", "ethertype": 0x8100}, {"action": "set_field", "field": ("vlan_vid", 4097)},
        {"action": "output", "port": 1, "max_len": 0}], f["instructions"]

@check("add_flow_icmp")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    m = fields(f["match"])
    assert m["ip_proto"] == (1, None) and m["icmpv4_type"] == (3, None) and m["icmpv4_code"] == (1, None), m
    assert actions(f["instructions"][0]["actions"]) == [{"action": "output", "port": 0xFFFFFFFD, "max_len": 64}]

@check("mod_flows_strict")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    assert f["command"] == 2 and f["priority"] == 1234, f
    assert fields(f["match"])["tcp_dst"] == (80, None)

@check("del_flows")
def _(ms):
    f = first(ms, "flow_mod")["msg"]
    assert f["command"] == 3 and f["table_id"] == 255 and f["instructions"] == [], f
    assert f["out_port"] == 0xFFFFFFFF and f["out_group"] == 0xFFFFFFFF, f

@check("add_group_select")
def _(ms):
    g = first(ms, "group_mod")["msg"]
    assert (g["command"], g["type"], g["group_id"]) == (0, 1, 7), g
    assert [b["weight"] for b in g["buckets"]] == [60, 30, 10], g
    assert [actions(b["actions"]) for b in g["buckets"]] == [
        [{"action": "output", "port": 1, "max_len": 0}], [{"action": "output", "port": 2, "max_len": 0}],
        [{"action": "set_field", "field": ("eth_dst", "02:00:00:00:00:09")}, {"action": "output", "port": 3, "max_len": 0}]], g

@check("add_group_ff")
def _(ms):
    g = first(ms, "group_mod")["msg"]
    assert (g["type"], g["group_id"]) == (3, 8) and [b["watch_port"] for b in g["buckets"]] == [1, 2], g

@check("add_group_all")
def _(ms):
    g = first(ms, "group_mod")["msg"]
    assert (g["type"], g["group_id"], len(g["buckets"])) == (0, 9, 2), g

@check("add_group_indirect")
def _(ms):
    g = first(ms, "group_mod")["msg"]
    assert (g["type"], g["group_id"], len(g["buckets"])) == (2, 10, 1), g

@check("add_meter")
def _(ms):
    m = first(ms, "meter_mod")["msg"]
    assert (m["command"], m["meter_id"], m["flags"]) == (0, 5, 1 | 4 | 8), m
    assert [(b["band"], b["rate"], b["burst_size"]) for b in m["bands"]] == [("drop", 1000, 100)], m

@check("dump_ports")
def _(ms):
    r = first(ms, "multipart_request")["msg"]
    assert r["mp_name"] == "port_stats" and r["body"] == {"port_no": 0xFFFFFFFF}, r

@check("dump_groups")
def _(ms):
    assert first(ms, "multipart_request")["msg"]["mp_name"] == "group_desc"

@check("dump_ports_desc")
def _(ms):
    assert first(ms, "multipart_request")["msg"]["mp_name"] == "port_desc"

fails = 0
for name, fn in checks.items():
    try:
        ms = load(name)
        bad = [m for m in ms if "error" in m or not m.get("roundtrip")]
        assert ms, "nothing captured"
        assert not bad, f"not decoded or not re-encoded byte for byte: {bad}"
        fn(ms)
        print(f"ok   capture {name}: {', '.join(m['type'] for m in ms)} decoded, re-encoded byte for byte")
    except AssertionError as e:
        fails += 1
        print(f"FAIL capture {name}: {str(e)[:600]}")
sys.exit(1 if fails else 0)
PY
if (( $? == 0 )); then ok "ovs-ofctl captures decoded by Tusk"; else bad "ovs-ofctl captures"; fi

echo "openflow-ofp-print: $pass passed, $fail failed"
(( fail == 0 ))
