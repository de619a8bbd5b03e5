import Packets

// The sFlow v5 encoder: the inverse of `SFlowDecoder`, byte for byte for anything the decoder
// accepted cleanly (lengths are computed, padding is zero). Tests use it for golden vectors; the
// simulator uses it to synthesise the datagrams its switches would export.
//
//   datagram:  version | address(type, v4/v6) | sub_agent_id | sequence | uptime | n | samples…
//   sample:    data_format | length | body
//   flow body: seq | source | rate | pool | drops | input | output | n | records…   (compact form)
//   record:    data_format | length | body (XDR, padded to 4)

public enum SFlowEncoder {
    public static func encode(_ d: SFlowDatagram) -> [UInt8] {
        var w = WireWriter(capacity: 512)
        encode(d, into: &w)
        return w.bytes
    }

    public static func encode(_ d: SFlowDatagram, into w: inout WireWriter) {
        w.write(d.version)
        writeAddress(d.agent, &w)
        w.write(d.subAgentId)
        w.write(d.sequence)
        w.write(d.uptime)
        w.write(UInt32(d.samples.count))
        for s in d.samples { encode(s, into: &w) }
    }

    public static func encode(_ s: SFlowSample, into w: inout WireWriter) {
        switch s {
        case .flow(let f):
            w.write((f.expanded ? DataFormat.expandedFlowSample : .flowSample).rawValue)
            let at = w.reserveUInt32()
            w.write(f.sequence)
            writeSource(f.source, expanded: f.expanded, &w)
            w.write(f.samplingRate)
            w.write(f.samplePool)
            w.write(f.drops)
            writeInterface(f.input, expanded: f.expanded, &w)
            writeInterface(f.output, expanded: f.expanded, &w)
            w.write(UInt32(f.records.count))
            for r in f.records { encode(r, into: &w) }
            w.patchUInt32(at: at, UInt32(w.count - at - 4))
        case .counters(let c):
            w.write((c.expanded ? DataFormat.expandedCounterSample : .counterSample).rawValue)
            let at = w.reserveUInt32()
            w.write(c.sequence)
            writeSource(c.source, expanded: c.expanded, &w)
            w.write(UInt32(c.records.count))
            for r in c.records { encode(r, into: &w) }
            w.patchUInt32(at: at, UInt32(w.count - at - 4))
        case .unknown(let format, let data):
            w.write(format.rawValue)
            w.write(UInt32(data.count))
            w.write(bytes: data)
        }
    }

    static func writeAddress(_ a: IPAddress, _ w: inout WireWriter) {
        switch a {
        case .v4(let v): w.write(UInt32(1)); w.write(v)
        case .v6(let v): w.write(UInt32(2)); w.write(v)
        }
    }

    static func writeAddress(_ a: SFlowAddress, _ w: inout WireWriter) {
        switch a {
        case .unknown: w.write(UInt32(0))
        case .v4(let v): w.write(UInt32(1)); w.write(v)
        case .v6(let v): w.write(UInt32(2)); w.write(v)
        }
    }

    static func writeSource(_ s: DataSource, expanded: Bool, _ w: inout WireWriter) {
        if expanded {
            w.write(s.type)
            w.write(s.index)
        } else {
            w.write(s.type << 24 | (s.index & 0x00FF_FFFF))
        }
    }

    static func writeInterface(_ i: SFlowInterface, expanded: Bool, _ w: inout WireWriter) {
        if expanded {
            w.write(i.format)
            w.write(i.value)
        } else {
            w.write(i.compact)
        }
    }

    static func writeOpaque(_ bytes: [UInt8], _ w: inout WireWriter) {
        w.write(UInt32(bytes.count))
        w.write(bytes: bytes)
        w.writeZeros((4 - bytes.count % 4) % 4)
    }

    static func writeString(_ s: String, _ w: inout WireWriter) { writeOpaque(Array(s.utf8), &w) }

    /// Writes `format | length | body`, with the length filled in after the body.
    static func record(_ format: DataFormat, _ w: inout WireWriter, _ body: (inout WireWriter) -> Void) {
        w.write(format.rawValue)
        let at = w.reserveUInt32()
        body(&w)
        w.patchUInt32(at: at, UInt32(w.count - at - 4))
    }

    public static func encode(_ r: FlowRecord, into w: inout WireWriter) {
        switch r {
        case .rawPacketHeader(let h):
            record(r.format, &w) { w in
                w.write(h.headerProtocol); w.write(h.frameLength); w.write(h.stripped)
                writeOpaque(h.header, &w)
            }
        case .ethernetFrameData(let e):
            record(r.format, &w) { w in
                w.write(e.length); w.write(e.srcMac); w.writeZeros(2); w.write(e.dstMac); w.writeZeros(2); w.write(e.type)
            }
        case .ipv4Data(let d):
            record(r.format, &w) { w in
                w.write(d.length); w.write(d.protocol); w.write(d.srcIp); w.write(d.dstIp)
                w.write(d.srcPort); w.write(d.dstPort); w.write(d.tcpFlags); w.write(d.tos)
            }
        case .ipv6Data(let d):
            record(r.format, &w) { w in
                w.write(d.length); w.write(d.protocol); w.write(d.srcIp); w.write(d.dstIp)
                w.write(d.srcPort); w.write(d.dstPort); w.write(d.tcpFlags); w.write(d.priority)
            }
        case .extendedSwitch(let s):
            record(r.format, &w) { w in
                w.write(s.srcVlan); w.write(s.srcPriority); w.write(s.dstVlan); w.write(s.dstPriority)
            }
        case .extendedRouter(let x):
            record(r.format, &w) { w in
                writeAddress(x.nexthop, &w); w.write(x.srcMaskLen); w.write(x.dstMaskLen)
            }
        case .extendedGateway(let g):
            record(r.format, &w) { w in
                writeAddress(g.nexthop, &w); w.write(g.as); w.write(g.srcAs); w.write(g.srcPeerAs)
                w.write(UInt32(g.dstAsPath.count))
                for seg in g.dstAsPath {
                    w.write(seg.type); w.write(UInt32(seg.asNumbers.count))
                    for a in seg.asNumbers { w.write(a) }
                }
                w.write(UInt32(g.communities.count))
                for c in g.communities { w.write(c) }
                w.write(g.localpref)
            }
        case .unknown(let format, let data):
            w.write(format.rawValue); w.write(UInt32(data.count)); w.write(bytes: data)
        }
    }

    public static func encode(_ r: CounterRecord, into w: inout WireWriter) {
        switch r {
        case .genericInterface(let c):
            record(r.format, &w) { w in
                w.write(c.ifIndex); w.write(c.ifType); w.write(c.ifSpeed); w.write(c.ifDirection); w.write(c.ifStatus)
                w.write(c.ifInOctets); w.write(c.ifInUcastPkts); w.write(c.ifInMulticastPkts); w.write(c.ifInBroadcastPkts)
                w.write(c.ifInDiscards); w.write(c.ifInErrors); w.write(c.ifInUnknownProtos)
                w.write(c.ifOutOctets); w.write(c.ifOutUcastPkts); w.write(c.ifOutMulticastPkts); w.write(c.ifOutBroadcastPkts)
                w.write(c.ifOutDiscards); w.write(c.ifOutErrors); w.write(c.ifPromiscuousMode)
            }
        case .ethernetInterface(let c):
            record(r.format, &w) { w in
                for v in [c.dot3StatsAlignmentErrors, c.dot3StatsFCSErrors, c.dot3StatsSingleCollisionFrames,
                          c.dot3StatsMultipleCollisionFrames, c.dot3StatsSQETestErrors, c.dot3StatsDeferredTransmissions,
                          c.dot3StatsLateCollisions, c.dot3StatsExcessiveCollisions, c.dot3StatsInternalMacTransmitErrors,
                          c.dot3StatsCarrierSenseErrors, c.dot3StatsFrameTooLongs, c.dot3StatsInternalMacReceiveErrors,
                          c.dot3StatsSymbolErrors] { w.write(v) }
            }
        case .vlan(let c):
            record(r.format, &w) { w in
                w.write(c.vlanId); w.write(c.octets); w.write(c.ucastPkts); w.write(c.multicastPkts)
                w.write(c.broadcastPkts); w.write(c.discards)
            }
        case .lacp(let c):
            record(r.format, &w) { w in
                w.write(c.actorSystemID); w.writeZeros(2); w.write(c.partnerSystemID); w.writeZeros(2)
                w.write(c.attachedAggID)
                w.write(c.actorAdminPortState); w.write(c.actorOperPortState)
                w.write(c.partnerAdminPortState); w.write(c.partnerOperPortState)
                for v in [c.lacpdusRx, c.markerPDUsRx, c.markerResponsePDUsRx, c.unknownRx, c.illegalRx,
                          c.lacpdusTx, c.markerPDUsTx, c.markerResponsePDUsTx] { w.write(v) }
            }
        case .processor(let c):
            record(r.format, &w) { w in
                w.write(c.cpu5s); w.write(c.cpu1m); w.write(c.cpu5m); w.write(c.totalMemory); w.write(c.freeMemory)
            }
        case .openFlowPort(let p):
            record(r.format, &w) { w in w.write(p.datapathId); w.write(p.portNo) }
        case .portName(let p):
            record(r.format, &w) { w in writeString(p.name, &w) }
        case .hostDescription(let h):
            record(r.format, &w) { w in
                writeString(h.hostname, &w)
                var uuid = h.uuid
                if uuid.count != 16 { uuid = Array((uuid + [UInt8](repeating: 0, count: 16)).prefix(16)) }
                w.write(bytes: uuid)
                w.write(h.machineType); w.write(h.osName)
                writeString(h.osRelease, &w)
            }
        case .hostAdapters(let a):
            record(r.format, &w) { w in
                w.write(UInt32(a.adapters.count))
                for ad in a.adapters {
                    w.write(ad.ifIndex); w.write(UInt32(ad.macAddresses.count))
                    for m in ad.macAddresses { w.write(m); w.writeZeros(2) }
                }
            }
        case .hostCPU(let c):
            record(r.format, &w) { w in
                w.write(c.loadOne.bitPattern); w.write(c.loadFive.bitPattern); w.write(c.loadFifteen.bitPattern)
                for v in [c.procRun, c.procTotal, c.cpuNum, c.cpuSpeed, c.uptime, c.cpuUser, c.cpuNice, c.cpuSystem,
                          c.cpuIdle, c.cpuWio, c.cpuIntr, c.cpuSintr, c.interrupts, c.contexts] { w.write(v) }
                for v in c.extra { w.write(v) }
            }
        case .hostMemory(let m):
            record(r.format, &w) { w in
                for v in [m.memTotal, m.memFree, m.memShared, m.memBuffers, m.memCached, m.swapTotal, m.swapFree] { w.write(v) }
                for v in [m.pageIn, m.pageOut, m.swapIn, m.swapOut] { w.write(v) }
            }
        case .unknown(let format, let data):
            w.write(format.rawValue); w.write(UInt32(data.count)); w.write(bytes: data)
        }
    }
}
