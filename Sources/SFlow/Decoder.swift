import Packets

/// The one error type of the sFlow module. `code` is stable (counted, logged); `offset` is where
/// in the datagram the problem was found.
public struct SFlowDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public static let truncated = Code(name: "truncated")
        public static let badVersion = Code(name: "bad-version")
        public static let badAddressType = Code(name: "bad-address-type")
        public static let lengthPastEnd = Code(name: "length-past-end")
        public static let countTooLarge = Code(name: "count-too-large")
        public static let badRecordLength = Code(name: "bad-record-length")
        public static let badString = Code(name: "bad-string")
        public var description: String { name }
    }

    public var code: Code
    public var offset: Int
    public var detail: String

    public init(_ code: Code, at offset: Int, _ detail: String) {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(code) at byte \(offset): \(detail)" }
}

/// A datagram decoded as far as its framing allows. `issues` lists the samples skipped by their
/// own length because their insides were malformed, and the framing error that stopped decoding
/// (if any); everything decoded before it is kept.
public struct DecodedDatagram: Sendable, Equatable {
    public var datagram: SFlowDatagram
    public var issues: [SFlowDecodeError]
    /// Samples dropped because they were malformed (each has an entry in `issues`).
    public var malformedSamples: Int
    public var isClean: Bool { issues.isEmpty }
}

/// Decoder limits (hard caps on counts and lengths from the wire, on top of "what is left").
public struct SFlowLimits: Sendable {
    public var maxSamplesPerDatagram = 4096
    public var maxRecordsPerSample = 1024
    public var maxHeaderBytes = 65_535
    public var maxListElements = 4096
    public init() {}
}

public enum SFlowDecoder {
    public static let defaultLimits = SFlowLimits()

    /// Decodes a whole datagram. Throws only when the datagram header itself is unusable
    /// (not sFlow v5, truncated before the samples); anything later is reported in `issues`.
    public static func decode(_ bytes: [UInt8], limits: SFlowLimits = defaultLimits) throws(SFlowDecodeError) -> DecodedDatagram {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SFlowDecodeError) -> DecodedDatagram in try decode(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func decode(_ raw: UnsafeRawBufferPointer, limits: SFlowLimits = defaultLimits) throws(SFlowDecodeError) -> DecodedDatagram {
        var r = WireReader(raw)
        let header = try readDatagramHeader(&r)
        var out = DecodedDatagram(
            datagram: SFlowDatagram(agent: header.agent, subAgentId: header.subAgentId, sequence: header.sequence,
                                    uptime: header.uptime, samples: [], version: header.version),
            issues: [], malformedSamples: 0)
        let count = header.sampleCount
        guard count <= UInt32(limits.maxSamplesPerDatagram), Int(count) <= r.remaining / 8 else {
            out.issues.append(SFlowDecodeError(.countTooLarge, at: r.position - 4, "sample count \(count) cannot fit in \(r.remaining) bytes"))
            return out
        }
        out.datagram.samples.reserveCapacity(Int(count))
        for _ in 0..<count {
            let at = r.position
            guard let tag = r.readUInt32(), let len = r.readUInt32() else {
                out.issues.append(SFlowDecodeError(.truncated, at: at, "sample header cut short"))
                return out
            }
            guard len <= UInt32(r.remaining), var body = r.readSlice(Int(len)) else {
                out.issues.append(SFlowDecodeError(.lengthPastEnd, at: at, "sample length \(len) exceeds the \(r.remaining) bytes left"))
                return out
            }
            // XDR (RFC 4506 §4.10) pads opaque data to a multiple of four bytes, and every sFlow v5
            // structure is made of 4-byte units: another length is malformed. Skip it and its padding.
            guard len % 4 == 0 else {
                _ = r.skip(Int(4 - len % 4))
                out.malformedSamples += 1
                out.issues.append(SFlowDecodeError(.badRecordLength, at: at, "sample length \(len) is not a multiple of 4"))
                continue
            }
            let format = DataFormat(rawValue: tag)
            do throws(SFlowDecodeError) {
                out.datagram.samples.append(try decodeSample(format, &body, limits: limits))
            } catch {
                out.malformedSamples += 1
                out.issues.append(error)
            }
        }
        return out
    }

    // MARK: Datagram header

    public struct DatagramHeader: Sendable {
        public var version: UInt32
        public var agent: IPAddress
        public var subAgentId: UInt32
        public var sequence: UInt32
        public var uptime: UInt32
        public var sampleCount: UInt32
    }

    /// sFlow v5 `sample_datagram_v5`, up to and including the sample count.
    public static func readDatagramHeader(_ r: inout WireReader) throws(SFlowDecodeError) -> DatagramHeader {
        guard let version = r.readUInt32() else { throw SFlowDecodeError(.truncated, at: 0, "shorter than a version field") }
        guard version == 5 else { throw SFlowDecodeError(.badVersion, at: 0, "version \(version), expected 5") }
        guard let agent = try readAddress(&r).ipAddress else {
            throw SFlowDecodeError(.badAddressType, at: 4, "agent address of unknown type")
        }
        guard let sub = r.readUInt32(), let seq = r.readUInt32(), let up = r.readUInt32(), let n = r.readUInt32() else {
            throw SFlowDecodeError(.truncated, at: r.position, "datagram header cut short")
        }
        return DatagramHeader(version: version, agent: agent, subAgentId: sub, sequence: seq, uptime: up, sampleCount: n)
    }

    static func readAddress(_ r: inout WireReader) throws(SFlowDecodeError) -> SFlowAddress {
        let at = r.position
        guard let type = r.readUInt32() else { throw SFlowDecodeError(.truncated, at: at, "address type cut short") }
        switch type {
        case 0: return .unknown
        case 1:
            guard let a = r.readIPv4() else { throw SFlowDecodeError(.truncated, at: at, "IPv4 address cut short") }
            return .v4(a)
        case 2:
            guard let a = r.readIPv6() else { throw SFlowDecodeError(.truncated, at: at, "IPv6 address cut short") }
            return .v6(a)
        default:
            throw SFlowDecodeError(.badAddressType, at: at, "address type \(type)")
        }
    }

    // MARK: Samples

    static func decodeSample(_ format: DataFormat, _ r: inout WireReader, limits: SFlowLimits) throws(SFlowDecodeError) -> SFlowSample {
        guard format.enterprise == 0 else { return .unknown(format: format, data: r.readBytes(r.remaining) ?? []) }
        switch format.format {
        case 1, 3:
            let head = try readFlowSampleHeader(&r, expanded: format.format == 3)
            let records = try readRecords(&r, limits: limits) { (f, body) throws(SFlowDecodeError) in
                try decodeFlowRecord(f, &body, limits: limits)
            }
            return .flow(FlowSample(expanded: head.expanded, sequence: head.sequence, source: head.source,
                                    samplingRate: head.samplingRate, samplePool: head.samplePool, drops: head.drops,
                                    input: head.input, output: head.output, records: records))
        case 2, 4:
            let expanded = format.format == 4
            let at = r.position
            guard let seq = r.readUInt32(), let source = readSource(&r, expanded: expanded) else {
                throw SFlowDecodeError(.truncated, at: at, "counter sample header cut short")
            }
            let records = try readRecords(&r, limits: limits, decode: decodeCounterRecord)
            return .counters(CounterSample(expanded: expanded, sequence: seq, source: source, records: records))
        default:
            return .unknown(format: format, data: r.readBytes(r.remaining) ?? [])
        }
    }

    /// The fixed part of a (expanded) flow sample, before its records.
    public struct FlowSampleHeader: Sendable {
        public var expanded: Bool
        public var sequence: UInt32
        public var source: DataSource
        public var samplingRate: UInt32
        public var samplePool: UInt32
        public var drops: UInt32
        public var input: SFlowInterface
        public var output: SFlowInterface

        public init(expanded: Bool, sequence: UInt32, source: DataSource, samplingRate: UInt32, samplePool: UInt32,
                    drops: UInt32, input: SFlowInterface, output: SFlowInterface) {
            self.expanded = expanded
            self.sequence = sequence
            self.source = source
            self.samplingRate = samplingRate
            self.samplePool = samplePool
            self.drops = drops
            self.input = input
            self.output = output
        }
    }

    @inline(__always)
    static func readSource(_ r: inout WireReader, expanded: Bool) -> DataSource? {
        if expanded {
            guard let t = r.readUInt32(), let i = r.readUInt32() else { return nil }
            return DataSource(type: t, index: i)
        }
        guard let v = r.readUInt32() else { return nil }
        return DataSource(type: v >> 24, index: v & 0x00FF_FFFF)
    }

    @inline(__always)
    static func readInterface(_ r: inout WireReader, expanded: Bool) -> SFlowInterface? {
        if expanded {
            guard let f = r.readUInt32(), let v = r.readUInt32() else { return nil }
            return SFlowInterface(format: f, value: v)
        }
        return r.readUInt32().map(SFlowInterface.init(compact:))
    }

    @inline(__always)
    public static func readFlowSampleHeader(_ r: inout WireReader, expanded: Bool) throws(SFlowDecodeError) -> FlowSampleHeader {
        let at = r.position
        guard let seq = r.readUInt32(), let source = readSource(&r, expanded: expanded),
              let rate = r.readUInt32(), let pool = r.readUInt32(), let drops = r.readUInt32(),
              let input = readInterface(&r, expanded: expanded), let output = readInterface(&r, expanded: expanded)
        else { throw SFlowDecodeError(.truncated, at: at, "flow sample header cut short") }
        return FlowSampleHeader(expanded: expanded, sequence: seq, source: source, samplingRate: rate,
                                samplePool: pool, drops: drops, input: input, output: output)
    }

    /// Reads `count` then that many `(data_format, opaque<>)` records, each framed by its own
    /// length first and then parsed from its slice, so a bad record cannot misalign the next.
    static func readRecords<R>(_ r: inout WireReader, limits: SFlowLimits,
                               decode: (DataFormat, inout WireReader) throws(SFlowDecodeError) -> R) throws(SFlowDecodeError) -> [R] {
        let at = r.position
        guard let n = r.readUInt32() else { throw SFlowDecodeError(.truncated, at: at, "record count missing") }
        guard n <= UInt32(limits.maxRecordsPerSample), Int(n) <= r.remaining / 8 else {
            throw SFlowDecodeError(.countTooLarge, at: at, "record count \(n) cannot fit in \(r.remaining) bytes")
        }
        var out: [R] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n {
            let recAt = r.position
            guard let tag = r.readUInt32(), let len = r.readUInt32() else {
                throw SFlowDecodeError(.truncated, at: recAt, "record header cut short")
            }
            guard len <= UInt32(r.remaining), var body = r.readSlice(Int(len)) else {
                throw SFlowDecodeError(.lengthPastEnd, at: recAt, "record length \(len) exceeds the \(r.remaining) bytes left")
            }
            guard len % 4 == 0 else { throw SFlowDecodeError(.badRecordLength, at: recAt, "record length \(len) is not a multiple of 4") }
            out.append(try decode(DataFormat(rawValue: tag), &body))
        }
        return out
    }

    // MARK: Flow records

    static func bad(_ r: WireReader, _ what: String) -> SFlowDecodeError {
        SFlowDecodeError(.badRecordLength, at: r.position, what)
    }

    static func decodeFlowRecord(_ format: DataFormat, _ r: inout WireReader, limits: SFlowLimits = defaultLimits) throws(SFlowDecodeError) -> FlowRecord {
        guard format.enterprise == 0 else { return .unknown(format: format, data: r.readBytes(r.remaining) ?? []) }
        switch format.format {
        case 1:
            guard let proto = r.readUInt32(), let frame = r.readUInt32(), let stripped = r.readUInt32(),
                  let hlen = r.readUInt32() else { throw bad(r, "sampled_header cut short") }
            guard hlen <= UInt32(limits.maxHeaderBytes), let bytes = r.readBytes(Int(hlen)) else {
                throw bad(r, "sampled_header length \(hlen) exceeds the record")
            }
            try skipPadding(&r, Int(hlen))
            return .rawPacketHeader(RawPacketHeader(headerProtocol: proto, frameLength: frame, stripped: stripped, header: bytes))
        case 2:
            guard let len = r.readUInt32(), let src = r.readMAC(), r.skip(2), let dst = r.readMAC(), r.skip(2),
                  let type = r.readUInt32() else { throw bad(r, "sampled_ethernet cut short") }
            return .ethernetFrameData(EthernetFrameData(length: len, srcMac: src, dstMac: dst, type: type))
        case 3:
            guard let len = r.readUInt32(), let proto = r.readUInt32(), let s = r.readIPv4(), let d = r.readIPv4(),
                  let sp = r.readUInt32(), let dp = r.readUInt32(), let flags = r.readUInt32(), let tos = r.readUInt32()
            else { throw bad(r, "sampled_ipv4 cut short") }
            return .ipv4Data(IPv4Data(length: len, protocol: proto, srcIp: s, dstIp: d, srcPort: sp, dstPort: dp, tcpFlags: flags, tos: tos))
        case 4:
            guard let len = r.readUInt32(), let proto = r.readUInt32(), let s = r.readIPv6(), let d = r.readIPv6(),
                  let sp = r.readUInt32(), let dp = r.readUInt32(), let flags = r.readUInt32(), let prio = r.readUInt32()
            else { throw bad(r, "sampled_ipv6 cut short") }
            return .ipv6Data(IPv6Data(length: len, protocol: proto, srcIp: s, dstIp: d, srcPort: sp, dstPort: dp, tcpFlags: flags, priority: prio))
        case 1001:
            guard let a = r.readUInt32(), let b = r.readUInt32(), let c = r.readUInt32(), let d = r.readUInt32()
            else { throw bad(r, "extended_switch cut short") }
            return .extendedSwitch(ExtendedSwitch(srcVlan: a, srcPriority: b, dstVlan: c, dstPriority: d))
        case 1002:
            let nh = try readAddress(&r)
            guard let s = r.readUInt32(), let d = r.readUInt32() else { throw bad(r, "extended_router cut short") }
            return .extendedRouter(ExtendedRouter(nexthop: nh, srcMaskLen: s, dstMaskLen: d))
        case 1003:
            let nh = try readAddress(&r)
            guard let asn = r.readUInt32(), let srcAs = r.readUInt32(), let peer = r.readUInt32(),
                  let segCount = r.readUInt32() else { throw bad(r, "extended_gateway cut short") }
            guard Int(segCount) <= r.remaining / 8 else { throw SFlowDecodeError(.countTooLarge, at: r.position, "AS path segment count \(segCount)") }
            var path: [ASPathSegment] = []
            for _ in 0..<segCount {
                guard let type = r.readUInt32(), let n = r.readUInt32() else { throw bad(r, "AS path segment cut short") }
                guard Int(n) <= r.remaining / 4 else { throw SFlowDecodeError(.countTooLarge, at: r.position, "AS count \(n)") }
                var asns: [UInt32] = []
                asns.reserveCapacity(Int(n))
                for _ in 0..<n { if let v = r.readUInt32() { asns.append(v) } }
                path.append(ASPathSegment(type: type, asNumbers: asns))
            }
            let communities = try readUInt32List(&r, "communities")
            guard let pref = r.readUInt32() else { throw bad(r, "extended_gateway localpref missing") }
            return .extendedGateway(ExtendedGateway(nexthop: nh, as: asn, srcAs: srcAs, srcPeerAs: peer,
                                                    dstAsPath: path, communities: communities, localpref: pref))
        default:
            return .unknown(format: format, data: r.readBytes(r.remaining) ?? [])
        }
    }

    static func readUInt32List(_ r: inout WireReader, _ what: String) throws(SFlowDecodeError) -> [UInt32] {
        guard let n = r.readUInt32() else { throw bad(r, "\(what) count missing") }
        guard Int(n) <= r.remaining / 4 else { throw SFlowDecodeError(.countTooLarge, at: r.position, "\(what) count \(n)") }
        var out: [UInt32] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n { if let v = r.readUInt32() { out.append(v) } }
        return out
    }

    /// XDR pads opaque data to a multiple of four bytes.
    @inline(__always)
    static func skipPadding(_ r: inout WireReader, _ length: Int) throws(SFlowDecodeError) {
        let pad = (4 - length % 4) % 4
        guard r.skip(pad) else { throw SFlowDecodeError(.badRecordLength, at: r.position, "padding runs past the record") }
    }

    static func readString(_ r: inout WireReader, max: Int, _ what: String) throws(SFlowDecodeError) -> String {
        guard let n = r.readUInt32() else { throw bad(r, "\(what) length missing") }
        guard n <= UInt32(max) else { throw SFlowDecodeError(.badString, at: r.position, "\(what) of \(n) bytes (at most \(max))") }
        guard let bytes = r.readBytes(Int(n)) else { throw bad(r, "\(what) runs past the record") }
        try skipPadding(&r, Int(n))
        // Agents have been seen to NUL-terminate inside the declared length: drop trailing NULs.
        var b = bytes[...]
        while b.last == 0 { b = b.dropLast() }
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: Counter records

    static func decodeCounterRecord(_ format: DataFormat, _ r: inout WireReader) throws(SFlowDecodeError) -> CounterRecord {
        guard format.enterprise == 0 else { return .unknown(format: format, data: r.readBytes(r.remaining) ?? []) }
        switch format.format {
        case 1:
            var c = GenericInterfaceCounters()
            guard let a = r.readUInt32(), let b = r.readUInt32(), let speed = r.readUInt64(), let dir = r.readUInt32(),
                  let st = r.readUInt32(), let inOct = r.readUInt64(), let iu = r.readUInt32(), let im = r.readUInt32(),
                  let ib = r.readUInt32(), let idisc = r.readUInt32(), let ierr = r.readUInt32(), let iunk = r.readUInt32(),
                  let outOct = r.readUInt64(), let ou = r.readUInt32(), let om = r.readUInt32(), let ob = r.readUInt32(),
                  let odisc = r.readUInt32(), let oerr = r.readUInt32(), let promisc = r.readUInt32()
            else { throw bad(r, "if_counters cut short") }
            c.ifIndex = a; c.ifType = b; c.ifSpeed = speed; c.ifDirection = dir; c.ifStatus = st
            c.ifInOctets = inOct; c.ifInUcastPkts = iu; c.ifInMulticastPkts = im; c.ifInBroadcastPkts = ib
            c.ifInDiscards = idisc; c.ifInErrors = ierr; c.ifInUnknownProtos = iunk
            c.ifOutOctets = outOct; c.ifOutUcastPkts = ou; c.ifOutMulticastPkts = om; c.ifOutBroadcastPkts = ob
            c.ifOutDiscards = odisc; c.ifOutErrors = oerr; c.ifPromiscuousMode = promisc
            return .genericInterface(c)
        case 2:
            var v = [UInt32](repeating: 0, count: 13)
            for i in 0..<13 {
                guard let x = r.readUInt32() else { throw bad(r, "ethernet_counters cut short") }
                v[i] = x
            }
            var c = EthernetInterfaceCounters()
            c.dot3StatsAlignmentErrors = v[0]; c.dot3StatsFCSErrors = v[1]; c.dot3StatsSingleCollisionFrames = v[2]
            c.dot3StatsMultipleCollisionFrames = v[3]; c.dot3StatsSQETestErrors = v[4]
            c.dot3StatsDeferredTransmissions = v[5]; c.dot3StatsLateCollisions = v[6]
            c.dot3StatsExcessiveCollisions = v[7]; c.dot3StatsInternalMacTransmitErrors = v[8]
            c.dot3StatsCarrierSenseErrors = v[9]; c.dot3StatsFrameTooLongs = v[10]
            c.dot3StatsInternalMacReceiveErrors = v[11]; c.dot3StatsSymbolErrors = v[12]
            return .ethernetInterface(c)
        case 5:
            var c = VLANCounters()
            guard let id = r.readUInt32(), let oct = r.readUInt64(), let u = r.readUInt32(), let m = r.readUInt32(),
                  let b = r.readUInt32(), let d = r.readUInt32() else { throw bad(r, "vlan_counters cut short") }
            c.vlanId = id; c.octets = oct; c.ucastPkts = u; c.multicastPkts = m; c.broadcastPkts = b; c.discards = d
            return .vlan(c)
        case 7:
            var c = LACPCounters()
            guard let actor = r.readMAC(), r.skip(2), let partner = r.readMAC(), r.skip(2), let agg = r.readUInt32(),
                  let aa = r.readUInt8(), let ao = r.readUInt8(), let pa = r.readUInt8(), let po = r.readUInt8(),
                  let l1 = r.readUInt32(), let l2 = r.readUInt32(), let l3 = r.readUInt32(), let l4 = r.readUInt32(),
                  let l5 = r.readUInt32(), let l6 = r.readUInt32(), let l7 = r.readUInt32(), let l8 = r.readUInt32()
            else { throw bad(r, "lag_port_stats cut short") }
            c.actorSystemID = actor; c.partnerSystemID = partner; c.attachedAggID = agg
            c.actorAdminPortState = aa; c.actorOperPortState = ao; c.partnerAdminPortState = pa; c.partnerOperPortState = po
            c.lacpdusRx = l1; c.markerPDUsRx = l2; c.markerResponsePDUsRx = l3; c.unknownRx = l4; c.illegalRx = l5
            c.lacpdusTx = l6; c.markerPDUsTx = l7; c.markerResponsePDUsTx = l8
            return .lacp(c)
        case 1001:
            var c = ProcessorCounters()
            guard let a = r.readUInt32(), let b = r.readUInt32(), let d = r.readUInt32(), let t = r.readUInt64(),
                  let f = r.readUInt64() else { throw bad(r, "processor cut short") }
            c.cpu5s = a; c.cpu1m = b; c.cpu5m = d; c.totalMemory = t; c.freeMemory = f
            return .processor(c)
        case 1004:
            guard let dp = r.readUInt64(), let port = r.readUInt32() else { throw bad(r, "of_port cut short") }
            return .openFlowPort(OpenFlowPort(datapathId: dp, portNo: port))
        case 1005:
            return .portName(PortName(name: try readString(&r, max: 255, "port name")))
        case 2000:
            let host = try readString(&r, max: 64, "hostname")
            guard let uuid = r.readBytes(16), let mt = r.readUInt32(), let os = r.readUInt32() else { throw bad(r, "host_descr cut short") }
            let rel = try readString(&r, max: 32, "os_release")
            return .hostDescription(HostDescription(hostname: host, uuid: uuid, machineType: mt, osName: os, osRelease: rel))
        case 2001:
            guard let n = r.readUInt32() else { throw bad(r, "host_adapters count missing") }
            guard Int(n) <= r.remaining / 8 else { throw SFlowDecodeError(.countTooLarge, at: r.position, "adapter count \(n)") }
            var adapters: [HostAdapter] = []
            for _ in 0..<n {
                guard let idx = r.readUInt32(), let m = r.readUInt32() else { throw bad(r, "adapter cut short") }
                guard Int(m) <= r.remaining / 8 else { throw SFlowDecodeError(.countTooLarge, at: r.position, "MAC count \(m)") }
                var macs: [MACAddress] = []
                for _ in 0..<m {
                    guard let mac = r.readMAC(), r.skip(2) else { throw bad(r, "adapter MAC cut short") }
                    macs.append(mac)
                }
                adapters.append(HostAdapter(ifIndex: idx, macAddresses: macs))
            }
            return .hostAdapters(HostAdapters(adapters: adapters))
        case 2003:
            var c = HostCPU()
            guard let l1 = r.readUInt32(), let l5 = r.readUInt32(), let l15 = r.readUInt32() else { throw bad(r, "host_cpu cut short") }
            c.loadOne = Float(bitPattern: l1); c.loadFive = Float(bitPattern: l5); c.loadFifteen = Float(bitPattern: l15)
            var v = [UInt32](repeating: 0, count: 14)
            for i in 0..<14 {
                guard let x = r.readUInt32() else { throw bad(r, "host_cpu cut short") }
                v[i] = x
            }
            c.procRun = v[0]; c.procTotal = v[1]; c.cpuNum = v[2]; c.cpuSpeed = v[3]; c.uptime = v[4]
            c.cpuUser = v[5]; c.cpuNice = v[6]; c.cpuSystem = v[7]; c.cpuIdle = v[8]; c.cpuWio = v[9]
            c.cpuIntr = v[10]; c.cpuSintr = v[11]; c.interrupts = v[12]; c.contexts = v[13]
            while c.extra.count < 16, let x = r.readUInt32() { c.extra.append(x) }
            return .hostCPU(c)
        case 2004:
            var c = HostMemory()
            guard let a = r.readUInt64(), let b = r.readUInt64(), let s = r.readUInt64(), let bu = r.readUInt64(),
                  let ca = r.readUInt64(), let st = r.readUInt64(), let sf = r.readUInt64(),
                  let pi = r.readUInt32(), let po = r.readUInt32(), let si = r.readUInt32(), let so = r.readUInt32()
            else { throw bad(r, "host_memory cut short") }
            c.memTotal = a; c.memFree = b; c.memShared = s; c.memBuffers = bu; c.memCached = ca
            c.swapTotal = st; c.swapFree = sf; c.pageIn = pi; c.pageOut = po; c.swapIn = si; c.swapOut = so
            return .hostMemory(c)
        default:
            return .unknown(format: format, data: r.readBytes(r.remaining) ?? [])
        }
    }

    // MARK: Sampled headers

    /// `parseSampledHeader(protocol:_:)` into a header that is still `ParsedHeader()`.
    public static func parseSampledHeader(protocol: UInt32, _ bytes: UnsafeRawBufferPointer, into h: inout ParsedHeader) {
        if `protocol` == RawPacketHeader.ethernet {
            HeaderParser.parseEthernet(bytes, into: &h)
        } else {
            h = parseSampledHeader(protocol: `protocol`, bytes)
        }
    }

    public static func parseSampledHeader(protocol: UInt32, _ bytes: UnsafeRawBufferPointer) -> ParsedHeader {
        switch `protocol` {
        case RawPacketHeader.ethernet: HeaderParser.parseEthernet(bytes)
        case RawPacketHeader.ipv4: HeaderParser.parseIPv4Packet(bytes)
        case RawPacketHeader.ipv6: HeaderParser.parseIPv6Packet(bytes)
        default: ParsedHeader()
        }
    }
}
