#!/usr/bin/env python3
"""Checks Tusk's OpenFlow 1.3 codec against os-ken's decodes of messages made by other encoders.

Usage: check-openflow13.py TUSK_BIN CONFORMANCE_DIR

For every openflow13/packets/*.packet: `tusk openflow decode --reencode FILE` must decode it, its
fields must equal os-ken's (expected/NAME.packet.json, os-ken's class and field names mapped to
Tusk's JSON below), and the re-encoding must equal the file byte for byte. Parts Tusk keeps raw
(Nicira/ONF actions and OXM fields, table-features and queue-config bodies) are compared on what
raw form still states (experimenter id, subtype, length, value bytes) and counted as "raw".
The .truncated64 file must be refused with an error and no crash.
"""
import base64
import ipaddress
import json
import os
import subprocess
import sys

def b64hex(s):
    return base64.b64decode(s).hex()

class Mismatch(Exception):
    pass

# --- os-ken to Tusk -----------------------------------------------------------------------------

BASIC = {  # OXM_OF_* names both sides use; value formats also agree (ints, MAC and IP text)
    "in_port", "in_phy_port", "metadata", "eth_dst", "eth_src", "eth_type", "vlan_vid", "vlan_pcp",
    "ip_dscp", "ip_ecn", "ip_proto", "ipv4_src", "ipv4_dst", "tcp_src", "tcp_dst", "udp_src", "udp_dst",
    "sctp_src", "sctp_dst", "icmpv4_type", "icmpv4_code", "arp_op", "arp_spa", "arp_tpa", "arp_sha",
    "arp_tha", "ipv6_src", "ipv6_dst", "ipv6_flabel", "icmpv6_type", "icmpv6_code", "ipv6_nd_target",
    "ipv6_nd_sll", "ipv6_nd_tll", "mpls_label", "mpls_tc", "mpls_bos", "pbb_isid", "tunnel_id",
    "ipv6_exthdr",
}
# Extension fields Tusk keeps raw: (oxm_class, oxm_field, value width, payload prefix before value).
EXTENSION = {
    "reg0": (1, 0, 4, b""), "reg1": (1, 1, 4, b""), "reg2": (1, 2, 4, b""), "reg3": (1, 3, 4, b""),
    "reg4": (1, 4, 4, b""), "reg5": (1, 5, 4, b""), "reg6": (1, 6, 4, b""), "reg7": (1, 7, 4, b""),
    "tun_ipv4_src": (1, 31, 4, b""), "tun_ipv4_dst": (1, 32, 4, b""), "pkt_mark": (1, 33, 4, b""),
    "conj_id": (1, 37, 4, b""), "ct_state": (1, 105, 4, b""), "ct_zone": (1, 106, 2, b""),
    "ct_mark": (1, 107, 4, b""),
    # ONF experimenter OXM (OF 1.3 ext-256): experimenter id, then the 16-bit exp field type.
    "pbb_uca": (0xFFFF, 0, 1, bytes.fromhex("4f4e4600") + (2560).to_bytes(2, "big")),
}

def value_bytes(v, width):
    if isinstance(v, int):
        return v.to_bytes(width, "big")
    if ":" in v and len(v) == 17 and width == 6:
        return bytes.fromhex(v.replace(":", ""))
    return ipaddress.ip_address(v).packed

def oxm(t):
    t = t["OXMTlv"]
    name = t["field"]
    if name in BASIC:
        return {"field": name, "value": t["value"], "mask": t["mask"]}
    if name in EXTENSION:
        cls, field, width, prefix = EXTENSION[name]
        payload = prefix + value_bytes(t["value"], width)
        if t["mask"] is not None:
            payload += value_bytes(t["mask"], width)
        return {"field": "raw", "oxm_class": cls, "oxm_field": field,
                "hasmask": t["mask"] is not None, "payload": payload.hex(), "__raw": True}
    raise Mismatch(f"os-ken field {name} has no mapping")

def match(m):
    m = m["OFPMatch"]
    return {"length": m["length"], "oxm_fields": [oxm(f) for f in m["oxm_fields"]]}

ACTIONS = {
    "OFPActionOutput": ("output", ["port", "max_len"]),
    "OFPActionCopyTtlOut": ("copy_ttl_out", []), "OFPActionCopyTtlIn": ("copy_ttl_in", []),
    "OFPActionSetMplsTtl": ("set_mpls_ttl", ["mpls_ttl"]), "OFPActionDecMplsTtl": ("dec_mpls_ttl", []),
    "OFPActionPushVlan": ("push_vlan", ["ethertype"]), "OFPActionPopVlan": ("pop_vlan", []),
    "OFPActionPushMpls": ("push_mpls", ["ethertype"]), "OFPActionPopMpls": ("pop_mpls", ["ethertype"]),
    "OFPActionSetQueue": ("set_queue", ["queue_id"]), "OFPActionGroup": ("group", ["group_id"]),
    "OFPActionSetNwTtl": ("set_nw_ttl", ["nw_ttl"]), "OFPActionDecNwTtl": ("dec_nw_ttl", []),
    "OFPActionPushPbb": ("push_pbb", ["ethertype"]), "OFPActionPopPbb": ("pop_pbb", []),
}

def action(a):
    (cls, f), = a.items()
    if cls in ACTIONS:
        name, keys = ACTIONS[cls]
        out = {"action": name, "type": f["type"], "len": f["len"]}
        for k in keys:
            out[k] = f[k]
        return out
    if cls == "OFPActionSetField":
        return {"action": "set_field", "type": 25, "len": f["len"], "field": oxm(f["field"])}
    if cls == "OFPActionExperimenterUnknown":
        return {"action": "experimenter", "type": 65535, "len": f["len"], "experimenter": f["experimenter"],
                "data": b64hex(f["data"])}
    if cls == "NXActionUnknown":
        data = f["subtype"].to_bytes(2, "big") + base64.b64decode(f["data"])
        return {"action": "experimenter", "type": 65535, "len": f["len"], "experimenter": f["experimenter"],
                "data": data.hex()}
    if cls.startswith("NXAction"):
        # Nicira actions are kept raw: check the experimenter id, the subtype (first two data
        # bytes) and the length; the rest of the fields live in the raw bytes (round-tripped).
        return {"action": "experimenter", "type": 65535, "len": f["len"], "experimenter": f["experimenter"],
                "data": ("prefix", f["subtype"].to_bytes(2, "big").hex()), "__raw": True}
    raise Mismatch(f"os-ken action {cls} has no mapping")

def instruction(i):
    (cls, f), = i.items()
    if cls == "OFPInstructionActions":
        name = {3: "write_actions", 4: "apply_actions", 5: "clear_actions"}[f["type"]]
        out = {"instruction": name, "type": f["type"]}
        if f["type"] != 5:
            out["actions"] = [action(a) for a in f["actions"]]
        return out
    if cls == "OFPInstructionGotoTable":
        return {"instruction": "goto_table", "type": 1, "table_id": f["table_id"]}
    if cls == "OFPInstructionWriteMetadata":
        return {"instruction": "write_metadata", "type": 2, "metadata": f["metadata"], "metadata_mask": f["metadata_mask"]}
    if cls == "OFPInstructionMeter":
        return {"instruction": "meter", "type": 6, "meter_id": f["meter_id"]}
    raise Mismatch(f"os-ken instruction {cls} has no mapping")

def bucket(b):
    b = b["OFPBucket"]
    return {"weight": b["weight"], "watch_port": b["watch_port"], "watch_group": b["watch_group"],
            "actions": [action(a) for a in b["actions"]]}

def band(b):
    (cls, f), = b.items()
    out = {"type": f["type"], "rate": f["rate"], "burst_size": f["burst_size"]}
    if cls == "OFPMeterBandDscpRemark":
        out["prec_level"] = f["prec_level"]
    if cls == "OFPMeterBandExperimenter":
        out["experimenter"] = f["experimenter"]
    return out

def port(p):
    p = p["OFPPort"]
    return {k: p[k] for k in ["port_no", "hw_addr", "name", "config", "state", "curr", "advertised",
                              "supported", "peer", "curr_speed", "max_speed"]}

def pick(f, keys):
    return {k: f[k] for k in keys}

def unwrap(x):
    (_, f), = x.items()
    return f

def flow_stats_request(f):
    return {"table_id": f["table_id"], "out_port": f["out_port"], "out_group": f["out_group"],
            "cookie": f["cookie"], "cookie_mask": f["cookie_mask"], "match": match(f["match"])}

def mp_request_body(cls, f):
    if cls in ("OFPFlowStatsRequest", "OFPAggregateStatsRequest"):
        return flow_stats_request(f)
    if cls == "OFPPortStatsRequest":
        return {"port_no": f["port_no"]}
    if cls == "OFPQueueStatsRequest":
        return {"port_no": f["port_no"], "queue_id": f["queue_id"]}
    if cls == "OFPGroupStatsRequest":
        return {"group_id": f["group_id"]}
    if cls in ("OFPMeterStatsRequest", "OFPMeterConfigStatsRequest"):
        return {"meter_id": f["meter_id"]}
    if cls == "OFPExperimenterStatsRequest":
        return {"experimenter": f["experimenter"], "exp_type": f["exp_type"], "data": b64hex(f["data"])}
    if cls == "ONFFlowMonitorStatsRequest":
        return {"experimenter": 0x4F4E4600, "exp_type": 1870, "__raw": True}
    if cls == "OFPTableFeaturesStatsRequest":
        return {"__raw": True}
    return {}

def mp_reply_body(cls, body):
    if cls == "OFPDescStatsReply":
        return pick(unwrap(body), ["mfr_desc", "hw_desc", "sw_desc", "serial_num", "dp_desc"])
    if cls == "OFPFlowStatsReply":
        out = []
        for s in body:
            s = unwrap(s)
            d = pick(s, ["table_id", "duration_sec", "duration_nsec", "priority", "idle_timeout", "hard_timeout",
                         "flags", "cookie", "packet_count", "byte_count"])
            d["match"] = match(s["match"])
            d["instructions"] = [instruction(i) for i in s["instructions"]]
            out.append(d)
        return out
    if cls == "OFPAggregateStatsReply":
        return pick(unwrap(body), ["packet_count", "byte_count", "flow_count"])
    if cls == "OFPTableStatsReply":
        return [pick(unwrap(s), ["table_id", "active_count", "lookup_count", "matched_count"]) for s in body]
    if cls == "OFPPortStatsReply":
        return [pick(unwrap(s), ["port_no", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped",
                                 "tx_dropped", "rx_errors", "tx_errors", "rx_frame_err", "rx_over_err", "rx_crc_err",
                                 "collisions", "duration_sec", "duration_nsec"]) for s in body]
    if cls == "OFPQueueStatsReply":
        return [pick(unwrap(s), ["port_no", "queue_id", "tx_bytes", "tx_packets", "tx_errors", "duration_sec",
                                 "duration_nsec"]) for s in body]
    if cls == "OFPGroupStatsReply":
        out = []
        for s in body:
            s = unwrap(s)
            d = pick(s, ["group_id", "ref_count", "packet_count", "byte_count", "duration_sec", "duration_nsec"])
            d["bucket_stats"] = [pick(unwrap(b), ["packet_count", "byte_count"]) for b in s["bucket_stats"]]
            out.append(d)
        return out
    if cls == "OFPGroupDescStatsReply":
        return [{"type": unwrap(s)["type"], "group_id": unwrap(s)["group_id"],
                 "buckets": [bucket(b) for b in unwrap(s)["buckets"]]} for s in body]
    if cls == "OFPGroupFeaturesStatsReply":
        return pick(unwrap(body), ["types", "capabilities", "max_groups", "actions"])
    if cls == "OFPMeterStatsReply":
        out = []
        for s in body:
            s = unwrap(s)
            d = pick(s, ["meter_id", "flow_count", "packet_in_count", "byte_in_count", "duration_sec", "duration_nsec"])
            d["band_stats"] = [pick(unwrap(b), ["packet_band_count", "byte_band_count"]) for b in s["band_stats"]]
            out.append(d)
        return out
    if cls == "OFPMeterConfigStatsReply":
        return [{"flags": unwrap(s)["flags"], "meter_id": unwrap(s)["meter_id"],
                 "bands": [band(b) for b in unwrap(s)["bands"]]} for s in body]
    if cls == "OFPMeterFeaturesStatsReply":
        return pick(unwrap(body[0] if isinstance(body, list) else body),
                    ["max_meter", "band_types", "capabilities", "max_bands", "max_color"])
    if cls == "OFPPortDescStatsReply":
        return [port(p) for p in body]
    if cls == "OFPExperimenterStatsReply":
        b = unwrap(body)
        return {"experimenter": b["experimenter"], "exp_type": b["exp_type"], "data": b64hex(b["data"])}
    if cls == "OFPTableFeaturesStatsReply":
        return {"__raw": True}
    raise Mismatch(f"os-ken multipart reply {cls} has no mapping")

def expected_message(doc):
    """(Tusk message type, Tusk 'msg' JSON that os-ken's decode implies)."""
    (cls, f), = doc.items()
    if cls == "OFPHello":
        return "hello", {"elements": [{"type": unwrap(e)["type"], "versions": unwrap(e)["versions"]} for e in f["elements"]]}
    if cls == "OFPErrorMsg":
        if f["type"] == 0xFFFF:
            return "error", {"type": 0xFFFF, "code": f["exp_type"], "experimenter": f["experimenter"], "data": b64hex(f["data"])}
        return "error", {"type": f["type"], "code": f["code"], "data": b64hex(f["data"])}
    if cls in ("OFPEchoRequest", "OFPEchoReply"):
        return ("echo_request" if cls == "OFPEchoRequest" else "echo_reply"), {"data": b64hex(f["data"]) if f["data"] else ""}
    if cls == "OFPExperimenter":
        return "experimenter", {"experimenter": f["experimenter"], "exp_type": f["exp_type"], "data": b64hex(f["data"])}
    simple = {"OFPFeaturesRequest": "features_request", "OFPGetConfigRequest": "get_config_request",
              "OFPBarrierRequest": "barrier_request", "OFPBarrierReply": "barrier_reply",
              "OFPGetAsyncRequest": "get_async_request"}
    if cls in simple:
        return simple[cls], {}
    if cls == "OFPSwitchFeatures":
        return "features_reply", pick(f, ["datapath_id", "n_buffers", "n_tables", "auxiliary_id", "capabilities"])
    if cls in ("OFPGetConfigReply", "OFPSetConfig"):
        return ("get_config_reply" if cls == "OFPGetConfigReply" else "set_config"), pick(f, ["flags", "miss_send_len"])
    if cls == "OFPPacketIn":
        d = pick(f, ["buffer_id", "total_len", "reason", "table_id", "cookie"])
        d["match"] = match(f["match"])
        d["data"] = b64hex(f["data"])
        return "packet_in", d
    if cls == "OFPFlowRemoved":
        d = pick(f, ["cookie", "priority", "reason", "table_id", "duration_sec", "duration_nsec", "idle_timeout",
                     "hard_timeout", "packet_count", "byte_count"])
        d["match"] = match(f["match"])
        return "flow_removed", d
    if cls == "OFPPortStatus":
        return "port_status", {"reason": f["reason"], "desc": port(f["desc"])}
    if cls == "OFPPacketOut":
        d = pick(f, ["buffer_id", "in_port"])
        d["actions"] = [action(a) for a in f["actions"]]
        if isinstance(f["data"], str):
            d["data"] = b64hex(f["data"])
        # else os-ken parsed the payload into a packet object: the bytes are checked by the round trip.
        return "packet_out", d
    if cls == "OFPFlowMod":
        d = pick(f, ["cookie", "cookie_mask", "table_id", "command", "idle_timeout", "hard_timeout", "priority",
                     "buffer_id", "out_port", "out_group", "flags"])
        d["match"] = match(f["match"])
        d["instructions"] = [instruction(i) for i in f["instructions"]]
        return "flow_mod", d
    if cls == "OFPGroupMod":
        return "group_mod", {"command": f["command"], "type": f["type"], "group_id": f["group_id"],
                             "buckets": [bucket(b) for b in f["buckets"]]}
    if cls == "OFPPortMod":
        return "port_mod", pick(f, ["port_no", "hw_addr", "config", "mask", "advertise"])
    if cls == "OFPTableMod":
        return "table_mod", pick(f, ["table_id", "config"])
    if cls in ("OFPRoleRequest", "OFPRoleReply"):
        return ("role_request" if cls == "OFPRoleRequest" else "role_reply"), pick(f, ["role", "generation_id"])
    if cls in ("OFPGetAsyncReply", "OFPSetAsync"):
        return ("get_async_reply" if cls == "OFPGetAsyncReply" else "set_async"), \
            pick(f, ["packet_in_mask", "port_status_mask", "flow_removed_mask"])
    if cls == "OFPMeterMod":
        return "meter_mod", {"command": f["command"], "flags": f["flags"], "meter_id": f["meter_id"],
                             "bands": [band(b) for b in f["bands"]]}
    if cls == "OFPQueueGetConfigRequest":
        return "queue_get_config_request", {"port": f["port"]}
    if cls == "OFPQueueGetConfigReply":
        return "queue_get_config_reply", {"port": f["port"], "__raw": True}
    if cls.endswith("StatsRequest"):
        mp_type = 0xFFFF if cls == "ONFFlowMonitorStatsRequest" else f["type"]
        return "multipart_request", {"mp_type": mp_type, "flags": f["flags"], "body": mp_request_body(cls, f)}
    if cls.endswith("StatsReply"):
        return "multipart_reply", {"mp_type": f["type"], "flags": f["flags"], "body": mp_reply_body(cls, f["body"])}
    raise Mismatch(f"os-ken message {cls} has no mapping")

# --- comparison ---------------------------------------------------------------------------------

class Counter:
    def __init__(self):
        self.leaves = 0
        self.raw = 0

def compare(exp, got, path, c):
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            raise Mismatch(f"{path}: expected an object, Tusk has {got!r}")
        if exp.get("__raw"):
            c.raw += 1
        for k, v in exp.items():
            if k == "__raw":
                continue
            if k not in got:
                raise Mismatch(f"{path}.{k}: missing in Tusk's decode")
            compare(v, got[k], f"{path}.{k}", c)
    elif isinstance(exp, list):
        if not isinstance(got, list) or len(got) != len(exp):
            raise Mismatch(f"{path}: expected {len(exp)} entries, Tusk has {got!r}"[:400])
        for i, (e, g) in enumerate(zip(exp, got)):
            compare(e, g, f"{path}[{i}]", c)
    elif isinstance(exp, tuple) and exp[0] == "prefix":
        if not isinstance(got, str) or not got.startswith(exp[1]):
            raise Mismatch(f"{path}: expected to start with {exp[1]}, Tusk has {got!r}")
        c.leaves += 1
    else:
        if exp != got:
            raise Mismatch(f"{path}: os-ken {exp!r}, Tusk {got!r}")
        c.leaves += 1

# --- driver -------------------------------------------------------------------------------------

def main():
    tusk, conf = sys.argv[1], sys.argv[2]
    pdir = os.path.join(conf, "openflow13", "packets")
    edir = os.path.join(conf, "openflow13", "expected")
    files = sorted(os.listdir(pdir))
    decoded = matched = roundtrip = failures = 0
    leaves = raw = 0
    total = len(files)
    for name in files:
        path = os.path.join(pdir, name)
        proc = subprocess.run([tusk, "openflow", "decode", "--reencode", path], capture_output=True, text=True, timeout=30)
        lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
        if not name.endswith(".packet"):
            # The truncated flow-mod must be refused: an error object, a non-zero exit, no crash.
            if proc.returncode == 1 and lines and all("error" in l for l in lines):
                print(f"ok   {name}: refused ({lines[0]['error']['code']}: {lines[0]['error']['context']})")
                decoded += 1; matched += 1; roundtrip += 1
            else:
                print(f"FAIL {name}: not refused cleanly (exit {proc.returncode}, {proc.stdout[:200]!r} {proc.stderr[:200]!r})")
                failures += 1
            continue
        try:
            if proc.returncode not in (0, 1) or len(lines) != 1 or "error" in lines[0]:
                raise Mismatch(f"decode failed (exit {proc.returncode}): {proc.stdout[:300]} {proc.stderr[:300]}")
            got = lines[0]
            decoded += 1
            with open(os.path.join(edir, name + ".json")) as f:
                doc = json.load(f)
            mtype, exp = expected_message(doc)
            if got["type"] != mtype:
                raise Mismatch(f"type: os-ken {mtype}, Tusk {got['type']}")
            c = Counter()
            compare(exp, got["msg"], "msg", c)
            matched += 1
            leaves += c.leaves; raw += c.raw
            with open(path, "rb") as f:
                original = f.read().hex()
            if not got.get("roundtrip") or got.get("reencoded") != original:
                raise Mismatch(f"re-encoding differs:\n  file    {original}\n  re-enc  {got.get('reencoded')}")
            roundtrip += 1
            print(f"ok   {name}: {mtype}, {c.leaves} fields equal" + (f", {c.raw} raw parts" if c.raw else ""))
        except Mismatch as e:
            failures += 1
            print(f"FAIL {name}: {e}")
    print(f"openflow13: {total} messages, {decoded} decoded, {matched} matched os-ken, {roundtrip} re-encoded byte for byte; "
          f"{leaves} field values compared, {raw} parts kept raw; {failures} failed")
    print(f"openflow13: {total - failures} passed, {failures} failed")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())
