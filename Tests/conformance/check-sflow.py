#!/usr/bin/env python3
"""Compares Tusk's decode of the sFlow conformance captures with tcpdump's verbose decode
(the .out file beside each capture): every datagram, sample and record, field by field."""
import json, re, subprocess, sys, os

tusk, conf = sys.argv[1], sys.argv[2]
sdir = os.path.join(conf, "sflow")
failures = []
checked = {"datagrams": 0, "samples": 0, "records": 0, "fields": 0}

def fail(msg):
    failures.append(msg)

def iface(raw, expanded_fmt=None):
    """tcpdump prints compact interfaces raw (format in the top 2 bits)."""
    v = int(raw)
    fmt, val = v >> 30, v & 0x3FFFFFFF
    if fmt == 0: return val
    return {1: "discarded", 2: "multiple"}[fmt] + ":" + str(val)

def parse_out(path):
    datagrams = []
    cur = None; sample = None; record = None
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.search(r"sFlowv5, IPv[46] agent (\S+), agent-id (\d+), seqnum (\d+), uptime (\d+), samples (\d+)", line)
        if m:
            cur = {"agent": m[1], "subAgent": int(m[2]), "sequence": int(m[3]), "uptime": int(m[4]), "n": int(m[5]), "samples": []}
            datagrams.append(cur); sample = None; record = None
            continue
        if "invalid" in line and "sFlowv5" in line:
            datagrams.append({"invalid": True}); cur = None
            continue
        m = re.match(r"\s+(expanded )?(flow|counter) sample \((\d)\), length (\d+), seqnum (\d+), type (\d+), idx (\d+)(.*)", line)
        if m and cur is not None:
            sample = {"type": "flow" if m[2] == "flow" else "counters", "sampleSequence": int(m[5]),
                      "sourceId": f"{m[6]}:{m[7]}", "records": [], "expanded": bool(m[1])}
            rest = m[8]
            if sample["type"] == "flow":
                f = re.search(r"rate (\d+), pool (\d+), drops (\d+), input (\d+)(?: \((\d+)\))?,? output (\d+)(?: \((\d+)\))?", rest)
                sample["samplingRate"], sample["samplePool"], sample["drops"] = int(f[1]), int(f[2]), int(f[3])
                if sample["expanded"]:
                    # Expanded interfaces print as "value (format)".
                    sample["input"] = int(f[4]) if int(f[5] or 0) == 0 else f"{['', 'discarded', 'multiple'][int(f[5])]}:{f[4]}"
                    sample["output"] = int(f[6]) if int(f[7] or 0) == 0 else f"{['', 'discarded', 'multiple'][int(f[7])]}:{f[6]}"
                else:
                    sample["input"], sample["output"] = iface(f[4]), iface(f[6])
            cur["samples"].append(sample); record = None
            continue
        m = re.match(r"\s+enterprise (\d+),? .*\((\d+)\) length (\d+)", line)
        if m and sample is not None:
            record = {"enterprise": int(m[1]), "format": int(m[2]), "length": int(m[3]), "fields": {}}
            sample["records"].append(record)
            continue
        if record is None: continue
        fl = record["fields"]
        for pat, keys in [
            (r"ifindex (\d+), iftype (\d+), ifspeed (\d+), ifdirection (\d+)", ["ifIndex", "ifType", "ifSpeed", "ifDirection"]),
            (r"ifstatus (\d+)", ["ifStatus"]),
            (r"In octets (\d+), unicast pkts (\d+), multicast pkts (\d+), broadcast pkts (\d+), discards (\d+)",
             ["ifInOctets", "ifInUcastPkts", "ifInMulticastPkts", "ifInBroadcastPkts", "ifInDiscards"]),
            (r"In errors (\d+), unknown protos (\d+)", ["ifInErrors", "ifInUnknownProtos"]),
            (r"Out octets (\d+), unicast pkts (\d+), multicast pkts (\d+), broadcast pkts (\d+), discards (\d+)",
             ["ifOutOctets", "ifOutUcastPkts", "ifOutMulticastPkts", "ifOutBroadcastPkts", "ifOutDiscards"]),
            (r"Out errors (\d+), promisc mode (\d+)", ["ifOutErrors", "ifPromiscuousMode"]),
            (r"align errors (\d+), fcs errors (\d+), single collision (\d+), multiple collision (\d+), test error (\d+)",
             ["dot3StatsAlignmentErrors", "dot3StatsFCSErrors", "dot3StatsSingleCollisionFrames", "dot3StatsMultipleCollisionFrames", "dot3StatsSQETestErrors"]),
            (r"deferred (\d+), late collision (\d+), excessive collision (\d+), mac trans error (\d+)",
             ["dot3StatsDeferredTransmissions", "dot3StatsLateCollisions", "dot3StatsExcessiveCollisions", "dot3StatsInternalMacTransmitErrors"]),
            (r"carrier error (\d+), frames too long (\d+), mac receive errors (\d+), symbol errors (\d+)",
             ["dot3StatsCarrierSenseErrors", "dot3StatsFrameTooLongs", "dot3StatsInternalMacReceiveErrors", "dot3StatsSymbolErrors"]),
            (r"protocol \S+ \((\d+)\), length (\d+), stripped bytes (\d+), header_size (\d+)",
             ["headerProtocol", "frameLength", "stripped", "headerLength"]),
            (r"src vlan (\d+), src pri (\d+), dst vlan (\d+), dst pri (\d+)", ["srcVlan", "srcPriority", "dstVlan", "dstPriority"]),
        ]:
            m = re.search(pat, line)
            if m:
                for k, v in zip(keys, m.groups()): fl[k] = int(v)
    return datagrams

def tusk_decode(pcap):
    p = subprocess.run([tusk, "sflow", "decode", "--pcap", pcap], capture_output=True, text=True)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, lines, p.stderr

for name in sorted(os.listdir(sdir)):
    if not name.endswith(".pcap"): continue
    pcap = os.path.join(sdir, name)
    out = pcap[:-5] + ".out"
    if not os.path.exists(out): continue
    expected = parse_out(out)
    rc, samples, err = tusk_decode(pcap)
    invalid = [d for d in expected if d.get("invalid")]
    valid = [d for d in expected if not d.get("invalid")]
    # tcpdump marks datagrams of other versions "not supported"; Tusk rejects them as not sFlow v5.
    if invalid and rc != 1:
        fail(f"{name}: tcpdump calls {len(invalid)} datagram(s) invalid but tusk exited {rc} (expected 1)")
    if invalid and "not sFlow v5" not in err:
        fail(f"{name}: no clear message for the invalid datagram; stderr: {err.strip()[:200]}")
    # Group Tusk's samples by datagram, in order.
    by_dg = {}
    order = []
    for s in samples:
        k = (s["agent"], s["subAgent"], s["sequence"])
        if k not in by_dg: by_dg[k] = []; order.append(k)
        by_dg[k].append(s)
    for d in valid:
        k = (d["agent"], d["subAgent"], d["sequence"])
        got = by_dg.get(k)
        checked["datagrams"] += 1
        if got is None:
            fail(f"{name}: datagram {k} missing from tusk's decode"); continue
        if len(got) != d["n"] or len(got) != len(d["samples"]):
            fail(f"{name}: datagram {k}: {len(got)} samples, tcpdump {len(d['samples'])} (header says {d['n']})"); continue
        for i, (es, gs) in enumerate(zip(d["samples"], got)):
            checked["samples"] += 1
            if gs["uptime"] != d["uptime"]: fail(f"{name} {k}: uptime {gs['uptime']} != {d['uptime']}")
            for f in ["type", "sampleSequence", "sourceId", "samplingRate", "samplePool", "drops", "input", "output"]:
                if f in es:
                    checked["fields"] += 1
                    if gs.get(f) != es[f]: fail(f"{name} {k} sample {i}: {f} = {gs.get(f)!r}, tcpdump {es[f]!r}")
            if len(gs["records"]) != len(es["records"]):
                fail(f"{name} {k} sample {i}: {len(gs['records'])} records, tcpdump {len(es['records'])}"); continue
            for er, gr in zip(es["records"], gs["records"]):
                checked["records"] += 1
                if gr["format"] != er["format"] or gr.get("enterprise", 0) != er["enterprise"]:
                    fail(f"{name} {k} sample {i}: record format {gr.get('enterprise',0)}:{gr['format']} != {er['enterprise']}:{er['format']}")
                    continue
                for f, v in er["fields"].items():
                    checked["fields"] += 1
                    if gr.get(f) != v: fail(f"{name} {k} sample {i} record {er['format']}: {f} = {gr.get(f)!r}, tcpdump {v!r}")
    extra = set(order) - {(d["agent"], d["subAgent"], d["sequence"]) for d in valid}
    if extra: fail(f"{name}: tusk decoded datagrams tcpdump did not: {sorted(extra)[:5]}")

print(f"sflow conformance: {checked['datagrams']} datagrams, {checked['samples']} samples, {checked['records']} records, {checked['fields']} fields compared with tcpdump")
for f in failures[:50]: print("  MISMATCH", f)
if failures:
    print(f"sflow conformance: {len(failures)} mismatches"); sys.exit(1)
