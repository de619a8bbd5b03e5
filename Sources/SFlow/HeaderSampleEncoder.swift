import Packets

// Datagrams of one shape, written straight from their fields: compact flow samples that each carry
// one raw packet header record. This is all a sampling switch's flow export holds, and what the
// simulator's switches send millions of times a simulated second. `SFlowEncoder.encode(_:)` of the
// same datagram gives the same bytes (tests compare them); this path builds no `SFlowSample`, no
// record array, and writes each datagram in one pass into memory sized for it.

/// A compact flow sample (`flow_sample`, format 1) with a single `sampled_header` record.
public struct HeaderSample: Sendable {
    public var sequence: UInt32
    public var source: DataSource
    public var samplingRate: UInt32
    public var samplePool: UInt32
    public var drops: UInt32
    public var input: SFlowInterface
    public var output: SFlowInterface
    public var headerProtocol: UInt32
    public var frameLength: UInt32
    public var stripped: UInt32
    public var header: [UInt8]

    public init(sequence: UInt32, source: DataSource, samplingRate: UInt32, samplePool: UInt32, drops: UInt32,
                input: SFlowInterface, output: SFlowInterface, headerProtocol: UInt32 = RawPacketHeader.ethernet,
                frameLength: UInt32, stripped: UInt32 = 0, header: [UInt8]) {
        self.sequence = sequence
        self.source = source
        self.samplingRate = samplingRate
        self.samplePool = samplePool
        self.drops = drops
        self.input = input
        self.output = output
        self.headerProtocol = headerProtocol
        self.frameLength = frameLength
        self.stripped = stripped
        self.header = header
    }

    /// The same sample in the general model.
    public var flowSample: FlowSample {
        FlowSample(sequence: sequence, source: source, samplingRate: samplingRate, samplePool: samplePool, drops: drops,
                   input: input, output: output,
                   records: [.rawPacketHeader(RawPacketHeader(headerProtocol: headerProtocol, frameLength: frameLength,
                                                              stripped: stripped, header: header))])
    }

    /// Bytes of the padded header opaque.
    var paddedHeaderBytes: Int { (header.count + 3) & ~3 }
    /// Bytes of the whole sample: tag and length, ten words of sample fields, the record's tag,
    /// length and four words, then the header.
    var encodedBytes: Int { 8 + 32 + 8 + 16 + paddedHeaderBytes }
}

extension SFlowEncoder {
    /// One datagram of `samples` (version 5): the bytes of `encode(SFlowDatagram(..., samples:
    /// samples.map { .flow($0.flowSample) }))`.
    public static func encode(agent: IPAddress, subAgentId: UInt32, sequence: UInt32, uptime: UInt32,
                              samples: [HeaderSample]) -> [UInt8] {
        let addressBytes: Int
        switch agent {
        case .v4: addressBytes = 8
        case .v6: addressBytes = 20
        }
        var total = 4 + addressBytes + 16
        for s in samples { total += s.encodedBytes }
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            var o = RawOut(base: UnsafeMutableRawPointer(buffer.baseAddress!))
            o.put(UInt32(5))
            switch agent {
            case .v4(let v):
                o.put(UInt32(1))
                o.put(v.value)
            case .v6(let v):
                o.put(UInt32(2))
                o.put(v.high)
                o.put(v.low)
            }
            o.put(subAgentId)
            o.put(sequence)
            o.put(uptime)
            o.put(UInt32(samples.count))
            for s in samples {
                let padded = s.paddedHeaderBytes
                o.put(DataFormat.flowSample.rawValue)
                o.put(UInt32(s.encodedBytes - 8))
                o.put(s.sequence)
                o.put(s.source.type << 24 | (s.source.index & 0x00FF_FFFF))
                o.put(s.samplingRate)
                o.put(s.samplePool)
                o.put(s.drops)
                o.put(s.input.compact)
                o.put(s.output.compact)
                o.put(UInt32(1))
                o.put(DataFormat.rawPacketHeader.rawValue)
                o.put(UInt32(16 + padded))
                o.put(s.headerProtocol)
                o.put(s.frameLength)
                o.put(s.stripped)
                o.put(UInt32(s.header.count))
                s.header.withUnsafeBytes { h in
                    if let src = h.baseAddress { (o.base + o.at).copyMemory(from: src, byteCount: h.count) }
                }
                (o.base + o.at + s.header.count).initializeMemory(as: UInt8.self, repeating: 0, count: padded - s.header.count)
                o.at += padded
            }
            precondition(o.at == total)
            count = total
        }
    }
}

/// Big-endian words into memory already sized for them.
private struct RawOut {
    let base: UnsafeMutableRawPointer
    var at = 0

    @inline(__always) mutating func put(_ v: UInt32) {
        (base + at).storeBytes(of: v.bigEndian, as: UInt32.self)
        at += 4
    }

    @inline(__always) mutating func put(_ v: UInt64) {
        (base + at).storeBytes(of: v.bigEndian, as: UInt64.self)
        at += 8
    }
}
