import Packets

/// What the fast path hands out per flow sample: no arrays, no copies of the header bytes.
public struct FlowSampleSummary: Sendable {
    public var agent: IPAddress
    public var subAgentId: UInt32
    public var datagramSequence: UInt32
    public var uptime: UInt32
    public var sample: SFlowDecoder.FlowSampleHeader
    /// Bytes of the sampled frame on the wire (raw header `frame_length`, or the IP data record's
    /// `length` when no header was sampled); 0 when the sample carried neither.
    public var frameLength: UInt32
    /// The sampled header, parsed; from the IPv4/IPv6 data records when there was no raw header.
    public var header: ParsedHeader
    public var hasHeader: Bool

    public init(agent: IPAddress, subAgentId: UInt32, datagramSequence: UInt32, uptime: UInt32,
                sample: SFlowDecoder.FlowSampleHeader, frameLength: UInt32, header: ParsedHeader, hasHeader: Bool) {
        self.agent = agent
        self.subAgentId = subAgentId
        self.datagramSequence = datagramSequence
        self.uptime = uptime
        self.sample = sample
        self.frameLength = frameLength
        self.header = header
        self.hasHeader = hasHeader
    }
}

/// Counts from one fast scan of a datagram.
public struct ScanCounts: Sendable, Equatable {
    public var flowSamples = 0
    public var counterSamples = 0
    public var unknownSamples = 0
    public var malformedSamples = 0
    /// The framing error that stopped the scan, if any.
    public var error: SFlowDecodeError?
    public init() {}
}

/// Where the scanner puts a flow sample while it reads it: `open` starts one, `withOpen` changes
/// it in place, `close` keeps it or drops it (malformed).
private protocol FlowSampleSink {
    mutating func open(agent: IPAddress, subAgentId: UInt32, datagramSequence: UInt32, uptime: UInt32, sample: SFlowDecoder.FlowSampleHeader)
    mutating func withOpen<R>(_ body: (inout FlowSampleSummary) -> R) -> R
    mutating func close(keep: Bool)
}

/// Samples appended to an array, each parsed where it stays.
extension Array: FlowSampleSink where Element == FlowSampleSummary {
    fileprivate mutating func open(agent: IPAddress, subAgentId: UInt32, datagramSequence: UInt32, uptime: UInt32,
                                   sample: SFlowDecoder.FlowSampleHeader) {
        append(FlowSampleSummary(agent: agent, subAgentId: subAgentId, datagramSequence: datagramSequence, uptime: uptime,
                                 sample: sample, frameLength: 0, header: ParsedHeader(), hasHeader: false))
    }
    fileprivate mutating func withOpen<R>(_ body: (inout FlowSampleSummary) -> R) -> R { body(&self[count - 1]) }
    fileprivate mutating func close(keep: Bool) { if !keep { removeLast() } }
}

/// One sample at a time, handed to a closure when complete.
private struct OneSample: FlowSampleSink {
    let body: (borrowing FlowSampleSummary) -> Void
    /// The sample being read (not an optional: the closure borrows it without a copy).
    var summary: FlowSampleSummary

    init(body: @escaping (borrowing FlowSampleSummary) -> Void) {
        self.body = body
        summary = FlowSampleSummary(agent: .v4(IPv4Address(0)), subAgentId: 0, datagramSequence: 0, uptime: 0,
                                    sample: SFlowDecoder.FlowSampleHeader(expanded: false, sequence: 0, source: DataSource(type: 0, index: 0), samplingRate: 0,
                                                                                    samplePool: 0, drops: 0, input: .ifIndex(0), output: .ifIndex(0)),
                                    frameLength: 0, header: ParsedHeader(), hasHeader: false)
    }

    mutating func open(agent: IPAddress, subAgentId: UInt32, datagramSequence: UInt32, uptime: UInt32, sample: SFlowDecoder.FlowSampleHeader) {
        summary.agent = agent
        summary.subAgentId = subAgentId
        summary.datagramSequence = datagramSequence
        summary.uptime = uptime
        summary.sample = sample
        summary.frameLength = 0
        summary.header = ParsedHeader()
        summary.hasHeader = false
    }
    mutating func withOpen<R>(_ body: (inout FlowSampleSummary) -> R) -> R { body(&summary) }
    mutating func close(keep: Bool) { if keep { body(summary) } }
}

extension SFlowDecoder {
    /// The fast path from datagram bytes to flow keys: walks the same framing as `decode`, but
    /// parses only the fixed flow-sample fields and the sampled header, in place. Counter samples
    /// and unknown samples are skipped by their length and counted.
    public static func scanFlowSamples(_ raw: UnsafeRawBufferPointer, limits: SFlowLimits = defaultLimits,
                                       _ body: (borrowing FlowSampleSummary) -> Void) throws(SFlowDecodeError) -> ScanCounts {
        try withoutActuallyEscaping(body) { body throws(SFlowDecodeError) in
            var one = OneSample(body: body)
            return try scan(raw, limits: limits, into: &one)
        }
    }

    /// `scanFlowSamples(_:limits:_:)` appending each flow sample to `out`, where it is parsed in
    /// place (a batch of samples is built without copying each one from the scanner's own).
    public static func scanFlowSamples(_ raw: UnsafeRawBufferPointer, limits: SFlowLimits = defaultLimits,
                                       appendingTo out: inout [FlowSampleSummary]) throws(SFlowDecodeError) -> ScanCounts {
        try scan(raw, limits: limits, into: &out)
    }

    private static func scan<Sink: FlowSampleSink>(_ raw: UnsafeRawBufferPointer, limits: SFlowLimits,
                                                   into sink: inout Sink) throws(SFlowDecodeError) -> ScanCounts {
        var r = WireReader(raw)
        let header = try readDatagramHeader(&r)
        var counts = ScanCounts()
        guard header.sampleCount <= UInt32(limits.maxSamplesPerDatagram), Int(header.sampleCount) <= r.remaining / 8 else {
            counts.error = SFlowDecodeError(.countTooLarge, at: r.position - 4, "sample count \(header.sampleCount)")
            return counts
        }
        for _ in 0..<header.sampleCount {
            let at = r.position
            guard let tag = r.readUInt32(), let len = r.readUInt32(), len <= UInt32(r.remaining),
                  var s = r.readSlice(Int(len)) else {
                counts.error = SFlowDecodeError(.lengthPastEnd, at: at, "sample framing runs past the datagram")
                return counts
            }
            // XDR lengths are multiples of 4 (as in `decode`): skip the sample and its padding.
            guard len % 4 == 0 else {
                _ = r.skip(Int(4 - len % 4))
                counts.malformedSamples += 1
                continue
            }
            let format = DataFormat(rawValue: tag)
            guard format.enterprise == 0 else { counts.unknownSamples += 1; continue }
            switch format.format {
            case 1, 3:
                guard let fs = try? readFlowSampleHeader(&s, expanded: format.format == 3),
                      let n = s.readUInt32(), n <= UInt32(limits.maxRecordsPerSample) else {
                    counts.malformedSamples += 1
                    continue
                }
                sink.open(agent: header.agent, subAgentId: header.subAgentId, datagramSequence: header.sequence,
                          uptime: header.uptime, sample: fs)
                var ok = true
                for _ in 0..<n {
                    guard let rtag = s.readUInt32(), let rlen = s.readUInt32(), rlen <= UInt32(s.remaining), rlen % 4 == 0,
                          var rec = s.readSlice(Int(rlen)) else { ok = false; break }
                    switch rtag {
                    case 1:
                        guard let proto = rec.readUInt32(), let frame = rec.readUInt32(), rec.skip(4),
                              let hlen = rec.readUInt32(), hlen <= UInt32(rec.remaining),
                              let bytes = rec.readSlice(Int(hlen)) else { ok = false; break }
                        sink.withOpen { summary in
                            summary.frameLength = frame
                            if summary.hasHeader { summary.header = ParsedHeader() }  // a second header record replaces the first
                            parseSampledHeader(protocol: proto, bytes.remainingBytes, into: &summary.header)
                            summary.hasHeader = true
                        }
                    case 3, 4:
                        guard !sink.withOpen({ $0.hasHeader }) else { break }
                        // Rare (agents that send no raw header): the decoder's own record parser.
                        switch try? decodeFlowRecord(DataFormat(rawValue: rtag), &rec, limits: limits) {
                        case .ipv4Data(let v)?:
                            sink.withOpen { summary in
                                summary.frameLength = v.length
                                summary.header = ipDataHeader(version: 4, proto: v.protocol, src: .v4(v.srcIp), dst: .v4(v.dstIp),
                                                              sport: v.srcPort, dport: v.dstPort, flags: v.tcpFlags, tos: v.tos, length: v.length)
                                summary.hasHeader = true
                            }
                        case .ipv6Data(let v)?:
                            sink.withOpen { summary in
                                summary.frameLength = v.length
                                summary.header = ipDataHeader(version: 6, proto: v.protocol, src: .v6(v.srcIp), dst: .v6(v.dstIp),
                                                              sport: v.srcPort, dport: v.dstPort, flags: v.tcpFlags, tos: v.priority, length: v.length)
                                summary.hasHeader = true
                            }
                        default:
                            ok = false
                        }
                    default:
                        break
                    }
                    if !ok { break }
                }
                sink.close(keep: ok)
                if ok {
                    counts.flowSamples += 1
                } else {
                    counts.malformedSamples += 1
                }
            case 2, 4:
                counts.counterSamples += 1
            default:
                counts.unknownSamples += 1
            }
        }
        return counts
    }

    /// A parsed header built from an IPv4/IPv6 data record (flow formats 3 and 4).
    public static func ipDataHeader(version: UInt8, proto: UInt32, src: IPAddress, dst: IPAddress, sport: UInt32, dport: UInt32,
                             flags: UInt32, tos: UInt32, length: UInt32) -> ParsedHeader {
        var h = ParsedHeader()
        h.ipVersion = version
        h.etherType = version == 4 ? EtherType.ipv4 : EtherType.ipv6
        h.src = src
        h.dst = dst
        let p = UInt8(truncatingIfNeeded: proto)
        h.proto = p
        h.tos = UInt8(truncatingIfNeeded: tos)
        h.ipLength = Int(length)
        if p == IPProtocolNumber.icmp || p == IPProtocolNumber.icmpv6 {
            h.icmpType = UInt8(truncatingIfNeeded: sport)
            h.icmpCode = UInt8(truncatingIfNeeded: dport)
        } else {
            h.sport = UInt16(truncatingIfNeeded: sport)
            h.dport = UInt16(truncatingIfNeeded: dport)
        }
        if p == IPProtocolNumber.tcp { h.tcpFlags = UInt8(truncatingIfNeeded: flags) }
        return h
    }
}
