import Packets

// JSON and text renderings of decoded samples, shared by `tusk sflow decode` and the tests.
// Field names follow the specification's structure fields in lowerCamelCase.

public enum SFlowRendering {
    /// Writes one JSON object for one sample of a datagram.
    @inlinable
    public static func writeSample<W: StructuredWriter>(_ s: SFlowSample, of d: SFlowDatagram, time: Double, into w: inout W) {
        w.beginObject()
        w.field("time", time)
        w.field("agent", d.agent.description)
        w.field("subAgent", d.subAgentId)
        w.field("sequence", d.sequence)
        w.field("uptime", d.uptime)
        switch s {
        case .flow(let f):
            w.field("type", "flow")
            w.field("sampleSequence", f.sequence)
            w.field("sourceId", f.source.description)
            w.field("samplingRate", f.samplingRate)
            w.field("samplePool", f.samplePool)
            w.field("drops", f.drops)
            w.key("input"); writeInterface(f.input, &w)
            w.key("output"); writeInterface(f.output, &w)
            w.key("records")
            w.beginArray()
            for r in f.records { writeFlowRecord(r, &w) }
            w.endArray()
        case .counters(let c):
            w.field("type", "counters")
            w.field("sampleSequence", c.sequence)
            w.field("sourceId", c.source.description)
            for k in ["samplingRate", "samplePool", "drops", "input", "output"] { w.key(k); w.null() }
            w.key("records")
            w.beginArray()
            for r in c.records { writeCounterRecord(r, &w) }
            w.endArray()
        case .unknown(let format, let data):
            w.field("type", "unknown")
            w.field("enterprise", format.enterprise)
            w.field("format", format.format)
            w.key("data"); w.hex(data)
        }
        w.endObject()
    }

    /// ifIndex as a number; other interface formats as `discarded:REASON` or `multiple:N`.
    @inlinable @usableFromInline
    static func writeInterface<W: StructuredWriter>(_ i: SFlowInterface, _ w: inout W) {
        switch i.format {
        case 0: w.int(i.value)
        case 1: w.string("discarded:\(i.value)")
        case 2: w.string("multiple:\(i.value)")
        default: w.string("format\(i.format):\(i.value)")
        }
    }

    @inlinable @usableFromInline
    static func writeFormat<W: StructuredWriter>(_ f: DataFormat, _ w: inout W) {
        w.field("format", f.format)
        if f.enterprise != 0 { w.field("enterprise", f.enterprise) }
    }

    @inlinable
    public static func writeFlowRecord<W: StructuredWriter>(_ r: FlowRecord, _ w: inout W) {
        w.beginObject()
        writeFormat(r.format, &w)
        switch r {
        case .rawPacketHeader(let h):
            w.field("headerProtocol", h.headerProtocol)
            w.field("frameLength", h.frameLength)
            w.field("stripped", h.stripped)
            w.field("headerLength", h.header.count)
            writeParsed(h.parsed, &w)
            w.key("header"); w.hex(h.header)
        case .ethernetFrameData(let e):
            w.field("length", e.length)
            w.field("srcMac", e.srcMac.description)
            w.field("dstMac", e.dstMac.description)
            w.field("type", e.type)
        case .ipv4Data(let d):
            w.field("length", d.length); w.field("protocol", d.protocol)
            w.field("srcIp", d.srcIp.description); w.field("dstIp", d.dstIp.description)
            w.field("srcPort", d.srcPort); w.field("dstPort", d.dstPort)
            w.field("tcpFlags", d.tcpFlags); w.field("tos", d.tos)
        case .ipv6Data(let d):
            w.field("length", d.length); w.field("protocol", d.protocol)
            w.field("srcIp", d.srcIp.description); w.field("dstIp", d.dstIp.description)
            w.field("srcPort", d.srcPort); w.field("dstPort", d.dstPort)
            w.field("tcpFlags", d.tcpFlags); w.field("priority", d.priority)
        case .extendedSwitch(let s):
            w.field("srcVlan", s.srcVlan); w.field("srcPriority", s.srcPriority)
            w.field("dstVlan", s.dstVlan); w.field("dstPriority", s.dstPriority)
        case .extendedRouter(let x):
            w.key("nexthop"); writeAddress(x.nexthop, &w)
            w.field("srcMaskLen", x.srcMaskLen); w.field("dstMaskLen", x.dstMaskLen)
        case .extendedGateway(let g):
            w.key("nexthop"); writeAddress(g.nexthop, &w)
            w.field("as", g.as); w.field("srcAs", g.srcAs); w.field("srcPeerAs", g.srcPeerAs)
            w.key("dstAsPath")
            w.beginArray()
            for seg in g.dstAsPath {
                w.beginObject()
                w.field("type", seg.type)
                w.key("asNumbers"); w.beginArray(); for a in seg.asNumbers { w.int(a) }; w.endArray()
                w.endObject()
            }
            w.endArray()
            w.key("communities"); w.beginArray(); for c in g.communities { w.int(c) }; w.endArray()
            w.field("localpref", g.localpref)
        case .unknown(_, let data):
            w.key("data"); w.hex(data)
        }
        w.endObject()
    }

    @inlinable @usableFromInline
    static func writeAddress<W: StructuredWriter>(_ a: SFlowAddress, _ w: inout W) {
        if let ip = a.ipAddress { w.string(ip.description) } else { w.null() }
    }

    /// The parsed flow key and header fields of a raw packet header record.
    @inlinable
    public static func writeParsed<W: StructuredWriter>(_ p: ParsedHeader, _ w: inout W) {
        if let m = p.ethSrc { w.field("srcMac", m.description) }
        if let m = p.ethDst { w.field("dstMac", m.description) }
        if let v = p.vlan { w.field("vlan", v) }
        if let v = p.innerVlan { w.field("innerVlan", v) }
        if let t = p.etherType { w.field("etherType", t) }
        if let s = p.src { w.field("src", s.description) }
        if let d = p.dst { w.field("dst", d.description) }
        if let k = p.flowKey {
            w.field("proto", k.proto)
            w.field("sport", k.sport)
            w.field("dport", k.dport)
        } else if let pr = p.proto {
            w.field("proto", pr)
        }
        if let t = p.ttl { w.field("ttl", t) }
        if let t = p.tos { w.field("tos", t) }
        if let f = p.tcpFlags { w.field("tcpFlags", f) }
        if let t = p.icmpType { w.field("icmpType", t) }
        if let c = p.icmpCode { w.field("icmpCode", c) }
        if p.isFragment { w.field("fragment", true) }
        if p.truncated { w.field("truncated", true) }
    }

    @inlinable
    public static func writeCounterRecord<W: StructuredWriter>(_ r: CounterRecord, _ w: inout W) {
        w.beginObject()
        writeFormat(r.format, &w)
        switch r {
        case .genericInterface(let c):
            w.field("ifIndex", c.ifIndex); w.field("ifType", c.ifType); w.field("ifSpeed", c.ifSpeed)
            w.field("ifDirection", c.ifDirection); w.field("ifStatus", c.ifStatus)
            w.field("ifInOctets", c.ifInOctets); w.field("ifInUcastPkts", c.ifInUcastPkts)
            w.field("ifInMulticastPkts", c.ifInMulticastPkts); w.field("ifInBroadcastPkts", c.ifInBroadcastPkts)
            w.field("ifInDiscards", c.ifInDiscards); w.field("ifInErrors", c.ifInErrors)
            w.field("ifInUnknownProtos", c.ifInUnknownProtos)
            w.field("ifOutOctets", c.ifOutOctets); w.field("ifOutUcastPkts", c.ifOutUcastPkts)
            w.field("ifOutMulticastPkts", c.ifOutMulticastPkts); w.field("ifOutBroadcastPkts", c.ifOutBroadcastPkts)
            w.field("ifOutDiscards", c.ifOutDiscards); w.field("ifOutErrors", c.ifOutErrors)
            w.field("ifPromiscuousMode", c.ifPromiscuousMode)
        case .ethernetInterface(let c):
            w.field("dot3StatsAlignmentErrors", c.dot3StatsAlignmentErrors)
            w.field("dot3StatsFCSErrors", c.dot3StatsFCSErrors)
            w.field("dot3StatsSingleCollisionFrames", c.dot3StatsSingleCollisionFrames)
            w.field("dot3StatsMultipleCollisionFrames", c.dot3StatsMultipleCollisionFrames)
            w.field("dot3StatsSQETestErrors", c.dot3StatsSQETestErrors)
            w.field("dot3StatsDeferredTransmissions", c.dot3StatsDeferredTransmissions)
            w.field("dot3StatsLateCollisions", c.dot3StatsLateCollisions)
            w.field("dot3StatsExcessiveCollisions", c.dot3StatsExcessiveCollisions)
            w.field("dot3StatsInternalMacTransmitErrors", c.dot3StatsInternalMacTransmitErrors)
            w.field("dot3StatsCarrierSenseErrors", c.dot3StatsCarrierSenseErrors)
            w.field("dot3StatsFrameTooLongs", c.dot3StatsFrameTooLongs)
            w.field("dot3StatsInternalMacReceiveErrors", c.dot3StatsInternalMacReceiveErrors)
            w.field("dot3StatsSymbolErrors", c.dot3StatsSymbolErrors)
        case .vlan(let c):
            w.field("vlanId", c.vlanId); w.field("octets", c.octets); w.field("ucastPkts", c.ucastPkts)
            w.field("multicastPkts", c.multicastPkts); w.field("broadcastPkts", c.broadcastPkts); w.field("discards", c.discards)
        case .lacp(let c):
            w.field("actorSystemID", c.actorSystemID.description); w.field("partnerSystemID", c.partnerSystemID.description)
            w.field("attachedAggID", c.attachedAggID)
            w.field("actorAdminPortState", c.actorAdminPortState); w.field("actorOperPortState", c.actorOperPortState)
            w.field("partnerAdminPortState", c.partnerAdminPortState); w.field("partnerOperPortState", c.partnerOperPortState)
            w.field("LACPDUsRx", c.lacpdusRx); w.field("markerPDUsRx", c.markerPDUsRx)
            w.field("markerResponsePDUsRx", c.markerResponsePDUsRx); w.field("unknownRx", c.unknownRx)
            w.field("illegalRx", c.illegalRx); w.field("LACPDUsTx", c.lacpdusTx)
            w.field("markerPDUsTx", c.markerPDUsTx); w.field("markerResponsePDUsTx", c.markerResponsePDUsTx)
        case .processor(let c):
            w.field("cpu5s", c.cpu5s); w.field("cpu1m", c.cpu1m); w.field("cpu5m", c.cpu5m)
            w.field("totalMemory", c.totalMemory); w.field("freeMemory", c.freeMemory)
        case .openFlowPort(let p):
            w.field("datapathId", p.datapathId); w.field("portNo", p.portNo)
        case .portName(let p):
            w.field("name", p.name)
        case .hostDescription(let h):
            w.field("hostname", h.hostname); w.key("uuid"); w.hex(h.uuid)
            w.field("machineType", h.machineType); w.field("osName", h.osName); w.field("osRelease", h.osRelease)
        case .hostAdapters(let a):
            w.key("adapters")
            w.beginArray()
            for ad in a.adapters {
                w.beginObject()
                w.field("ifIndex", ad.ifIndex)
                w.key("macAddresses"); w.beginArray(); for m in ad.macAddresses { w.string(m.description) }; w.endArray()
                w.endObject()
            }
            w.endArray()
        case .hostCPU(let c):
            w.field("loadOne", Double(c.loadOne)); w.field("loadFive", Double(c.loadFive)); w.field("loadFifteen", Double(c.loadFifteen))
            w.field("procRun", c.procRun); w.field("procTotal", c.procTotal); w.field("cpuNum", c.cpuNum)
            w.field("cpuSpeed", c.cpuSpeed); w.field("uptime", c.uptime); w.field("cpuUser", c.cpuUser)
            w.field("cpuNice", c.cpuNice); w.field("cpuSystem", c.cpuSystem); w.field("cpuIdle", c.cpuIdle)
            w.field("cpuWio", c.cpuWio); w.field("cpuIntr", c.cpuIntr); w.field("cpuSintr", c.cpuSintr)
            w.field("interrupts", c.interrupts); w.field("contexts", c.contexts)
            let names = ["cpuSteal", "cpuGuest", "cpuGuestNice"]
            for (i, v) in c.extra.enumerated() { w.field(i < names.count ? names[i] : "extra\(i)", v) }
        case .hostMemory(let m):
            w.field("memTotal", m.memTotal); w.field("memFree", m.memFree); w.field("memShared", m.memShared)
            w.field("memBuffers", m.memBuffers); w.field("memCached", m.memCached); w.field("swapTotal", m.swapTotal)
            w.field("swapFree", m.swapFree); w.field("pageIn", m.pageIn); w.field("pageOut", m.pageOut)
            w.field("swapIn", m.swapIn); w.field("swapOut", m.swapOut)
        case .unknown(_, let data):
            w.key("data"); w.hex(data)
        }
        w.endObject()
    }
}
