import Packets
import Testing
@testable import SFlow

// The header-sample encoder against the general one: the same datagram, built both ways, must be
// the same bytes, and decode to the samples it was built from.
@Suite struct HeaderSampleEncoderTests {
    static func samples(_ n: Int, _ g: inout SeededGenerator) -> [HeaderSample] {
        (0..<n).map { _ in
            HeaderSample(sequence: UInt32.random(in: 0...UInt32.max, using: &g),
                         source: DataSource(type: UInt32.random(in: 0...2, using: &g), index: UInt32.random(in: 0...0xFF_FFFF, using: &g)),
                         samplingRate: UInt32.random(in: 1...100_000, using: &g), samplePool: UInt32.random(in: 0...UInt32.max, using: &g),
                         drops: UInt32.random(in: 0...9, using: &g),
                         input: .ifIndex(UInt32.random(in: 0...0x3FFF_FFFF, using: &g)),
                         output: SFlowInterface(format: UInt32.random(in: 0...2, using: &g), value: UInt32.random(in: 0...0x3FFF_FFFF, using: &g)),
                         headerProtocol: [RawPacketHeader.ethernet, 11, 12].randomElement(using: &g)!,
                         frameLength: UInt32.random(in: 60...9000, using: &g), stripped: UInt32.random(in: 0...4, using: &g),
                         // Every padding: lengths 0 to 130.
                         header: (0..<Int.random(in: 0...130, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
        }
    }

    @Test func sameBytesAsTheGeneralEncoder() throws {
        var g = SeededGenerator(seed: 7)
        for round in 0..<300 {
            let agent: IPAddress = round % 3 == 0
                ? .v6(IPv6Address(high: UInt64.random(in: 0...UInt64.max, using: &g), low: UInt64.random(in: 0...UInt64.max, using: &g)))
                : .v4(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &g)))
            let list = Self.samples(round % 10, &g)
            let (sub, seq, up) = (UInt32(round % 4), UInt32.random(in: 0...UInt32.max, using: &g), UInt32.random(in: 0...UInt32.max, using: &g))
            let fast = SFlowEncoder.encode(agent: agent, subAgentId: sub, sequence: seq, uptime: up, samples: list)
            let datagram = SFlowDatagram(agent: agent, subAgentId: sub, sequence: seq, uptime: up, samples: list.map { .flow($0.flowSample) })
            #expect(fast == SFlowEncoder.encode(datagram), "round \(round): \(list.count) samples")
            let decoded = try SFlowDecoder.decode(fast)
            #expect(decoded.datagram == datagram, "round \(round)")
        }
    }
}
