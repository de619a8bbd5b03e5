import Packets
import Testing
@testable import SFlow

// Hostile inputs (habits 1 and 2): every count and length from the wire is checked against what is
// left and a hard cap; a malformed sample is skipped by its own length and counted; nothing traps.

enum Synthetic {
    /// Two datagrams from the synthetic exporter: one of flow samples, one with a counter sample.
    static let datagrams: [[UInt8]] = {
        var c = SyntheticSFlow.Config()
        c.agents = 1
        c.flows = 64
        var g = SyntheticSFlow(config: c)
        var out: [[UInt8]] = []
        for i in 1...10 {
            let d = g.nextDatagram(agent: 0, uptimeMs: UInt32(i * 1000))
            if i == 1 || i == 10 { out.append(SFlowEncoder.encode(d)) }
        }
        return out
    }()

    static var bases: [(name: String, bytes: [UInt8])] {
        Golden.all + [("synthetic-flows", datagrams[0]), ("synthetic-counters", datagrams[1])]
    }
}

struct HostileCase: Sendable, CustomTestStringConvertible {
    enum Expect: Sendable {
        /// The datagram header itself is unusable.
        case throwsCode(SFlowDecodeError.Code)
        /// Decoded as far as framing allows: samples kept, samples counted malformed, issue codes in order.
        case decodes(samples: Int, malformed: Int, codes: [SFlowDecodeError.Code])
    }

    var name: String
    var bytes: [UInt8]
    var expect: Expect
    var testDescription: String { name }

    static let flow = framed(1, flowSampleBody(records: [extendedSwitchRecord]))
    static let counters = framed(2, counterSampleBody(records: [framed(1004, u32(0) + u32(7) + u32(3))]))

    static func inFlow(_ records: [UInt8]...) -> [UInt8] { datagram(count: 1, framed(1, flowSampleBody(records: records))) }
    static func inCounters(_ records: [UInt8]...) -> [UInt8] { datagram(count: 1, framed(2, counterSampleBody(records: records))) }
    static func gateway(_ tail: [UInt8]) -> [UInt8] {
        framed(1003, u32(1) + [192, 0, 2, 1] + u32(65000) + u32(65001) + u32(65002) + tail)
    }
    static func bad(_ malformed: Int, _ codes: [SFlowDecodeError.Code]) -> Expect {
        .decodes(samples: 0, malformed: malformed, codes: codes)
    }

    static let all: [HostileCase] = [
        // Datagram header.
        HostileCase(name: "empty datagram", bytes: [], expect: .throwsCode(.truncated)),
        HostileCase(name: "version 4", bytes: u32(4) + Array(datagram(count: 0, []).dropFirst(4)), expect: .throwsCode(.badVersion)),
        HostileCase(name: "agent address type 0 (unknown)", bytes: u32(5) + u32(0) + u32(0) + u32(1) + u32(1) + u32(0),
                    expect: .throwsCode(.badAddressType)),
        HostileCase(name: "agent address type 7", bytes: u32(5) + u32(7) + u32(0) + u32(0) + u32(1) + u32(1) + u32(0),
                    expect: .throwsCode(.badAddressType)),
        HostileCase(name: "IPv6 agent address cut short", bytes: u32(5) + u32(2) + [0x20, 0x01, 0x0d, 0xb8],
                    expect: .throwsCode(.truncated)),
        HostileCase(name: "header cut before the sample count", bytes: Array(datagram(count: 0, []).dropLast(2)),
                    expect: .throwsCode(.truncated)),
        HostileCase(name: "no samples", bytes: datagram(count: 0, []), expect: .decodes(samples: 0, malformed: 0, codes: [])),

        // Sample framing.
        HostileCase(name: "sample length past the end",
                    bytes: datagram(count: 1, framed(1, flowSampleBody(records: [extendedSwitchRecord]), length: 4096)),
                    expect: .decodes(samples: 0, malformed: 0, codes: [.lengthPastEnd])),
        HostileCase(name: "sample length 0xFFFFFFFF", bytes: datagram(count: 1, framed(1, [0, 0, 0, 0], length: 0xFFFF_FFFF)),
                    expect: .decodes(samples: 0, malformed: 0, codes: [.lengthPastEnd])),
        HostileCase(name: "sample count 0xFFFFFFFF with a tiny body", bytes: datagram(count: 0xFFFF_FFFF, flow),
                    expect: .decodes(samples: 0, malformed: 0, codes: [.countTooLarge])),
        HostileCase(name: "sample count one more than present", bytes: datagram(count: 2, flow),
                    expect: .decodes(samples: 1, malformed: 0, codes: [.truncated])),
        HostileCase(name: "sample header cut after its format", bytes: datagram(count: 2, flow + u32(1)),
                    expect: .decodes(samples: 1, malformed: 0, codes: [.truncated])),
        HostileCase(name: "sample length not a multiple of 4, padded, then a good sample",
                    bytes: datagram(count: 2, framed(99, [1, 2, 3, 4, 5, 6]) + [0, 0] + flow),
                    expect: .decodes(samples: 1, malformed: 1, codes: [.badRecordLength])),
        HostileCase(name: "flow sample length not a multiple of 4",
                    bytes: datagram(count: 1, framed(1, flowSampleBody(records: [extendedSwitchRecord]) + [0xEE])),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "zero-length flow sample", bytes: datagram(count: 1, framed(1, [])), expect: bad(1, [.truncated])),
        HostileCase(name: "zero-length counter sample", bytes: datagram(count: 1, framed(2, [])), expect: bad(1, [.truncated])),
        HostileCase(name: "zero-length expanded flow sample", bytes: datagram(count: 1, framed(3, [])), expect: bad(1, [.truncated])),
        HostileCase(name: "expanded flow sample cut inside its interfaces",
                    bytes: datagram(count: 1, framed(3, u32(1) + u32(0) + u32(1) + u32(1) + u32(1) + u32(0) + u32(0) + u32(1))),
                    expect: bad(1, [.truncated])),
        HostileCase(name: "zero-length unknown sample is kept", bytes: datagram(count: 1, framed(77, [])),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),
        HostileCase(name: "unknown sample format is kept", bytes: datagram(count: 1, framed(0x0000_0FFF, u32(1) + u32(2))),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),
        HostileCase(name: "unknown enterprise sample is kept", bytes: datagram(count: 1, framed(0xFFFF_F001, u32(9))),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),

        // Record framing.
        HostileCase(name: "record count 0xFFFFFFFF with a tiny body",
                    bytes: datagram(count: 1, framed(1, flowSampleBody(records: [extendedSwitchRecord], count: 0xFFFF_FFFF))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "counter record count 1,000,000 with a tiny body",
                    bytes: datagram(count: 1, framed(2, counterSampleBody(records: [], count: 1_000_000))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "record count one more than present",
                    bytes: datagram(count: 1, framed(1, flowSampleBody(records: [extendedSwitchRecord, extendedSwitchRecord], count: 3))),
                    expect: bad(1, [.truncated])),
        HostileCase(name: "record length past the sample", bytes: inFlow(framed(1001, u32(1) + u32(2) + u32(3) + u32(4), length: 64)),
                    expect: bad(1, [.lengthPastEnd])),
        HostileCase(name: "record length not a multiple of 4",
                    bytes: inFlow(framed(4000, [1, 2, 3, 4, 5]) + [0, 0, 0], extendedSwitchRecord),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "zero-length known flow record", bytes: inFlow(framed(1001, [])), expect: bad(1, [.badRecordLength])),
        HostileCase(name: "zero-length known counter record", bytes: inCounters(framed(1, [])), expect: bad(1, [.badRecordLength])),
        HostileCase(name: "zero-length unknown record is kept", bytes: inFlow(framed(4000, []), extendedSwitchRecord),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),
        HostileCase(name: "unknown enterprise record is kept", bytes: inCounters(framed(0x0226_0001, u32(5))),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),

        // Lengths inside records.
        HostileCase(name: "sampled header length past the record",
                    bytes: inFlow(framed(1, u32(1) + u32(64) + u32(4) + u32(200) + [UInt8](repeating: 0xAB, count: 8))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "sampled header length 0xFFFFFFFF",
                    bytes: inFlow(framed(1, u32(1) + u32(64) + u32(4) + u32(0xFFFF_FFFF) + [UInt8](repeating: 0, count: 8))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "sampled header padding runs past the record",
                    bytes: datagram(count: 1, framed(1, flowSampleBody(records: [framed(1, u32(1) + u32(64) + u32(4) + u32(5) + [1, 2, 3, 4, 5])])
                                                      + [0, 0, 0])),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "port name length past the record", bytes: inCounters(framed(1005, u32(100) + Array("eth0".utf8))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "port name of 300 bytes (limit 255)",
                    bytes: inCounters(framed(1005, u32(300) + [UInt8](repeating: 0x61, count: 300))),
                    expect: bad(1, [.badString])),
        HostileCase(name: "port name padding runs past the record",
                    bytes: datagram(count: 1, framed(2, counterSampleBody(records: [framed(1005, u32(3) + Array("eth".utf8))]) + [0])),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "non-zero padding bytes are ignored",
                    bytes: inCounters(framed(1005, u32(3) + Array("eth".utf8) + [0xFF])),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),
        HostileCase(name: "NUL-terminated port name inside its length",
                    bytes: inCounters(framed(1005, u32(5) + Array("eth1".utf8) + [0, 0, 0, 0])),
                    expect: .decodes(samples: 1, malformed: 0, codes: [])),
        HostileCase(name: "hostname of 68 bytes (limit 64)",
                    bytes: inCounters(framed(2000, u32(68) + [UInt8](repeating: 0x68, count: 68) + [UInt8](repeating: 0, count: 28))),
                    expect: bad(1, [.badString])),
        HostileCase(name: "host_descr cut after the hostname", bytes: inCounters(framed(2000, u32(4) + Array("host".utf8) + u32(0))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "AS path segment count 0xFFFFFFFF", bytes: inFlow(gateway(u32(0xFFFF_FFFF) + u32(0) + u32(0))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "AS count 0x40000000 in a segment", bytes: inFlow(gateway(u32(1) + u32(2) + u32(0x4000_0000) + u32(1))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "communities count 0x7FFFFFFF", bytes: inFlow(gateway(u32(0) + u32(0x7FFF_FFFF) + u32(1))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "extended_gateway without localpref", bytes: inFlow(gateway(u32(0) + u32(1) + u32(7))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "adapter count 0xFFFFFFFF", bytes: inCounters(framed(2001, u32(0xFFFF_FFFF) + u32(1))),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "MAC count 0x10000000 in an adapter",
                    bytes: inCounters(framed(2001, u32(1) + u32(2) + u32(0x1000_0000) + [2, 0, 0, 0, 0, 1, 0, 0])),
                    expect: bad(1, [.countTooLarge])),
        HostileCase(name: "next hop address type 9", bytes: inFlow(framed(1002, u32(9) + u32(0) + u32(24) + u32(24))),
                    expect: bad(1, [.badAddressType])),
        HostileCase(name: "next hop IPv6 address cut short", bytes: inFlow(framed(1002, u32(2) + u32(0x2001_0db8))),
                    expect: bad(1, [.truncated])),
        HostileCase(name: "if_counters cut short", bytes: inCounters(framed(1, [UInt8](repeating: 0, count: 84))),
                    expect: bad(1, [.badRecordLength])),
        HostileCase(name: "sampled_ipv6 cut short", bytes: inFlow(framed(4, [UInt8](repeating: 0, count: 52))),
                    expect: bad(1, [.badRecordLength])),

        // Good samples around a bad one survive.
        HostileCase(name: "one bad sample between two good ones",
                    bytes: datagram(count: 3, flow + framed(1, flowSampleBody(records: [framed(1001, u32(1), length: 40)])) + counters),
                    expect: .decodes(samples: 2, malformed: 1, codes: [.lengthPastEnd])),
    ]
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test("decode answers every hostile case as expected", arguments: HostileCase.all)
    func decode(_ c: HostileCase) {
        switch c.expect {
        case .throwsCode(let code):
            #expect(throws: SFlowDecodeError.self) { try SFlowDecoder.decode(c.bytes) }
            do { _ = try SFlowDecoder.decode(c.bytes) } catch { #expect(error.code == code) }
        case .decodes(let samples, let malformed, let codes):
            do {
                let d = try SFlowDecoder.decode(c.bytes)
                #expect(d.datagram.samples.count == samples)
                #expect(d.malformedSamples == malformed)
                #expect(d.issues.map(\.code) == codes, "issues: \(d.issues)")
                #expect(d.isClean == codes.isEmpty)
                for i in d.issues { #expect(i.offset >= 0 && i.offset <= c.bytes.count) }
                // What was kept re-encodes and decodes to itself.
                let again = try SFlowDecoder.decode(SFlowEncoder.encode(d.datagram))
                #expect(again.isClean)
                #expect(again.datagram == d.datagram)
            } catch {
                Issue.record("unexpected throw: \(error)")
            }
        }
    }

    /// The fields of a summary, comparable.
    private static func fields(_ s: borrowing FlowSampleSummary) -> String {
        "\(s.agent) \(s.subAgentId) \(s.datagramSequence) \(s.uptime) \(s.sample.sequence) \(s.sample.source) "
            + "\(s.sample.samplingRate) \(s.sample.samplePool) \(s.sample.drops) \(s.sample.input) \(s.sample.output) "
            + "\(s.frameLength) \(s.hasHeader) \(s.header)"
    }

    @Test("scanning into an array gives what the closure form gives, after what the array held",
          arguments: HostileCase.all.map(\.name) + Golden.all.map { "golden \($0.name)" })
    func scanIntoArray(_ name: String) throws {
        let bytes = try #require(HostileCase.all.first { $0.name == name }?.bytes ?? Golden.all.first { "golden \($0.name)" == name }?.bytes)
        var seen: [String] = []
        let viaClosure = bytes.withUnsafeBytes { raw in
            Result { () throws(SFlowDecodeError) -> ScanCounts in try SFlowDecoder.scanFlowSamples(raw) { seen.append(Self.fields($0)) } }
        }
        // The array already holds samples of another datagram: they stay, first and unchanged.
        var batch: [FlowSampleSummary] = []
        _ = try Golden.a.withUnsafeBytes { raw in try SFlowDecoder.scanFlowSamples(raw, appendingTo: &batch) }
        let before = batch.map { Self.fields($0) }
        #expect(before.count == 2)
        let viaArray = bytes.withUnsafeBytes { raw in
            Result { () throws(SFlowDecodeError) -> ScanCounts in try SFlowDecoder.scanFlowSamples(raw, appendingTo: &batch) }
        }
        switch (viaClosure, viaArray) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(name)")
        case (.failure(let a), .failure(let b)):
            #expect(a.code == b.code && a.offset == b.offset, "\(name)")
        default:
            Issue.record("\(name): one form threw and the other did not")
        }
        #expect(batch.map { Self.fields($0) } == before + seen, "\(name)")
    }

    @Test("the fast scanner frames every hostile case as decode does", arguments: HostileCase.all)
    func scan(_ c: HostileCase) throws {
        var summaries = 0
        let result = c.bytes.withUnsafeBytes { raw in
            Result { () throws(SFlowDecodeError) -> ScanCounts in try SFlowDecoder.scanFlowSamples(raw) { _ in summaries += 1 } }
        }
        switch (c.expect, result) {
        case (.throwsCode(let code), .failure(let e)):
            #expect(e.code == code)
        case (.throwsCode, .success):
            Issue.record("scan accepted a datagram whose header decode rejects")
        case (.decodes, .failure(let e)):
            Issue.record("scan threw \(e)")
        case (.decodes, .success(let counts)):
            let d = try SFlowDecoder.decode(c.bytes)
            let framing = d.issues.count > d.malformedSamples
            #expect((counts.error != nil) == framing, "scan error \(String(describing: counts.error)), decode issues \(d.issues)")
            // The same samples are framed; the scanner may look less deeply inside them.
            #expect(counts.flowSamples + counts.counterSamples + counts.unknownSamples + counts.malformedSamples
                        == d.datagram.samples.count + d.malformedSamples)
            #expect(summaries == counts.flowSamples)
            let decodedFlows = d.datagram.samples.filter { if case .flow = $0 { true } else { false } }.count
            #expect(counts.flowSamples >= decodedFlows)
        }
    }

    @Test("the good samples around a bad one survive unchanged")
    func goodSamplesSurvive() throws {
        let c = try #require(HostileCase.all.first { $0.name == "one bad sample between two good ones" })
        let d = try SFlowDecoder.decode(c.bytes)
        let good = try SFlowDecoder.decode(datagram(count: 2, HostileCase.flow + HostileCase.counters))
        #expect(good.isClean)
        #expect(d.datagram.samples == good.datagram.samples)
        #expect(d.malformedSamples == 1)
        // The issue points at the bad sample's record (28 header + 8 + 56 first sample + 8 + 32 fixed fields).
        #expect(d.issues.first?.offset == 28 + 64 + 8 + 32)
        var stats = IngestStats()
        stats.record(d)
        #expect(stats.totals.malformed == 1 && stats.totals.flowSamples == 1 && stats.totals.counterSamples == 1)
    }

    @Test("padding contents and trailing NULs do not leak into names")
    func paddingAndNULs() throws {
        for name in ["non-zero padding bytes are ignored", "NUL-terminated port name inside its length"] {
            let c = try #require(HostileCase.all.first { $0.name == name })
            let d = try SFlowDecoder.decode(c.bytes)
            guard case .counters(let cs) = d.datagram.samples.first, case .portName(let p) = cs.records.first else {
                Issue.record("\(name): no port name"); continue
            }
            #expect(p.name == (name.hasPrefix("NUL") ? "eth1" : "eth"))
        }
    }

    @Test("a lowered hard cap applies even when the bytes would fit")
    func hardCaps() throws {
        var limits = SFlowLimits()
        limits.maxSamplesPerDatagram = 1
        let two = datagram(count: 2, HostileCase.flow + HostileCase.flow)
        let d = try SFlowDecoder.decode(two, limits: limits)
        #expect(d.datagram.samples.isEmpty && d.issues.map(\.code) == [.countTooLarge])
        let counts = try two.withUnsafeBytes { try SFlowDecoder.scanFlowSamples($0, limits: limits) { _ in } }
        #expect(counts.error?.code == .countTooLarge && counts.flowSamples == 0)

        limits = SFlowLimits()
        limits.maxRecordsPerSample = 1
        let rec = datagram(count: 1, framed(1, flowSampleBody(records: [extendedSwitchRecord, extendedSwitchRecord])))
        let r = try SFlowDecoder.decode(rec, limits: limits)
        #expect(r.malformedSamples == 1 && r.issues.map(\.code) == [.countTooLarge])
    }

    @Test("truncation at every offset", arguments: Synthetic.bases.map(\.name))
    func truncation(name: String) throws {
        let full = try #require(Synthetic.bases.first { $0.name == name }).bytes
        let ref = try SFlowDecoder.decode(full)
        #expect(ref.isClean)
        let headerLength = ref.datagram.agent.description.contains(":") ? 40 : 28
        var refSummaries: [SFlowDecoder.FlowSampleHeader] = []
        _ = try full.withUnsafeBytes { try SFlowDecoder.scanFlowSamples($0) { refSummaries.append($0.sample) } }
        var failures = 0
        for cut in 0..<full.count {
            let prefix = Array(full[..<cut])
            do {
                let d = try SFlowDecoder.decode(prefix)
                let ok = cut >= headerLength
                    && !d.isClean && d.issues.count == 1 && d.malformedSamples == 0
                    && d.datagram.agent == ref.datagram.agent && d.datagram.sequence == ref.datagram.sequence
                    && d.datagram.samples.count < ref.datagram.samples.count
                    && Array(ref.datagram.samples.prefix(d.datagram.samples.count)) == d.datagram.samples
                if !ok { failures += 1; Issue.record("cut \(cut): \(d.issues), \(d.datagram.samples.count) samples") }
            } catch {
                if error.code != .truncated || cut >= headerLength {
                    failures += 1
                    Issue.record("cut \(cut): threw \(error)")
                }
            }
            var got: [SFlowDecoder.FlowSampleHeader] = []
            let scan = prefix.withUnsafeBytes { raw in
                Result { () throws(SFlowDecodeError) -> ScanCounts in try SFlowDecoder.scanFlowSamples(raw) { got.append($0.sample) } }
            }
            switch scan {
            case .failure(let e):
                if e.code != .truncated || cut >= headerLength { failures += 1; Issue.record("scan cut \(cut): \(e)") }
            case .success(let counts):
                let ok = counts.error != nil && counts.malformedSamples == 0 && got.count == counts.flowSamples
                    && got.count <= refSummaries.count
                    && zip(got, refSummaries).allSatisfy { $0.sequence == $1.sequence && $0.samplePool == $1.samplePool }
                if !ok { failures += 1; Issue.record("scan cut \(cut): \(counts)") }
            }
            if failures > 10 { break }
        }
        #expect(failures == 0)
    }

    @Test("20,000 seeded mutations of real datagrams never crash and stay consistent")
    func randomMutations() throws {
        var rng = SeededGenerator(seed: 0x5EED_5F10)
        let bases = Synthetic.bases.map(\.bytes)
        let interesting: [UInt32] = [0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0x7FFF_FFFF,
                                     0x8000_0000, 0xFFFF_FFFC, 0xFFFF_FFFE, 0xFFFF_FFFF]
        var decoded = 0, rejected = 0, withIssues = 0, failures = 0
        for _ in 0..<20_000 {
            var m = bases[Int(rng.next() % UInt64(bases.count))]
            let rounds = 1 + Int(rng.next() % 3)
            for _ in 0..<rounds where !m.isEmpty {
                switch rng.next() % 5 {
                case 0: // flip a few bytes
                    for _ in 0..<(1 + Int(rng.next() % 4)) {
                        m[Int(rng.next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: rng.next())
                    }
                case 1, 2: // splice a length or count at a 4-byte boundary
                    let at = Int(rng.next() % UInt64(max(1, m.count / 4))) * 4
                    guard at + 4 <= m.count else { break }
                    var v = interesting[Int(rng.next() % UInt64(interesting.count))]
                    if rng.next() % 4 == 0 { v = UInt32(m.count - at) &+ UInt32(truncatingIfNeeded: Int(rng.next() % 9) - 4) }
                    m.replaceSubrange(at..<(at + 4), with: u32(v))
                case 3: // cut
                    m = Array(m.prefix(Int(rng.next() % UInt64(m.count + 1))))
                default: // remove or repeat a run of words
                    let at = Int(rng.next() % UInt64(max(1, m.count / 4))) * 4
                    let n = min(m.count - at, 4 * (1 + Int(rng.next() % 4)))
                    guard n > 0 else { break }
                    if rng.next() % 2 == 0 { m.removeSubrange(at..<(at + n)) } else { m.insert(contentsOf: m[at..<(at + n)], at: at) }
                }
            }
            let result = Result { () throws(SFlowDecodeError) -> DecodedDatagram in try SFlowDecoder.decode(m) }
            var scanned = 0
            let scan = m.withUnsafeBytes { raw in
                Result { () throws(SFlowDecodeError) -> ScanCounts in try SFlowDecoder.scanFlowSamples(raw) { _ in scanned += 1 } }
            }
            switch (result, scan) {
            case (.failure(let a), .failure(let b)):
                rejected += 1
                if a.code != b.code { failures += 1; Issue.record("decode threw \(a), scan threw \(b)") }
            case (.success(let d), .success(let counts)):
                decoded += 1
                if !d.isClean { withIssues += 1 }
                var ok = d.malformedSamples <= d.issues.count
                let framing = d.issues.count > d.malformedSamples
                ok = ok && (counts.error != nil) == framing
                ok = ok && counts.flowSamples + counts.counterSamples + counts.unknownSamples + counts.malformedSamples
                    == d.datagram.samples.count + d.malformedSamples
                ok = ok && scanned == counts.flowSamples
                // What decode returns encodes to bytes that decode to a fixed point.
                let re = SFlowEncoder.encode(d.datagram)
                if let again = try? SFlowDecoder.decode(re) {
                    if again.isClean {
                        ok = ok && SFlowEncoder.encode(again.datagram) == re
                    } else {
                        // Only invalid UTF-8 grows on the way through (U+FFFD is 3 bytes) and can pass a string cap.
                        ok = ok && again.issues.allSatisfy { $0.code == .badString }
                    }
                } else {
                    ok = false
                }
                if !ok { failures += 1; Issue.record("inconsistent: \(hexString(m))") }
            default:
                failures += 1
                Issue.record("decode and scan disagree on the header: \(hexString(m))")
            }
            if failures > 5 { break }
        }
        #expect(failures == 0)
        // The loop really exercised both paths.
        #expect(decoded > 1000 && rejected > 100 && withIssues > 1000)
    }
}
