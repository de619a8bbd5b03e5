// Bad sFlow input reaching a real elephant loop: each kind gets a counter, and the loop goes on.
@testable import Controller
import Foundation
import Logging
import NIOPosix
import Packets
import PathSelection
import SFlow
import Testing
import Topology

@Suite struct LoopBadInputTests {
    @Test("a malformed datagram and samples from an agent the topology does not have are counted; rounds go on")
    func badInputIsCounted() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var policy = Policy()
        // Ports are reported unmapped once three polling intervals (plus 1 s) pass without a mapping.
        policy.pollingInterval = 0.001
        let topo = try Topology(yaml: HTTPAPITests.topoYAML)
        let e = try ElephantLoop(topology: topo, options: ElephantLoopOptions(policy: policy, dryRun: true),
                                 loop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger)
        let clock = e.collectorClock
        func send(_ bytes: [UInt8]) { bytes.withUnsafeBytes { e.received($0, from: nil, timeNanos: clock()) } }
        func stranger(_ seq: UInt32) -> [UInt8] {
            let header = FrameBuilder.sampledIPv4Header(srcMac: MACAddress(0x0200_0000_0001), dstMac: MACAddress(0x0200_0000_0003),
                                                        src: IPv4Address(10, 9, 0, 1), dst: IPv4Address(10, 9, 0, 2), proto: 6,
                                                        srcPort: 40000, dstPort: 80, ipLength: 1482)
            let sample = FlowSample(sequence: seq, source: DataSource(type: 0, index: 7), samplingRate: 100, samplePool: 100 * seq,
                                    drops: 0, input: .ifIndex(7), output: .ifIndex(8),
                                    records: [.rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: 1500, stripped: 4, header: header))])
            return SFlowEncoder.encode(SFlowDatagram(agent: .v4(IPv4Address(198, 51, 100, 99)), subAgentId: 0, sequence: seq,
                                                     uptime: seq, samples: [.flow(sample)]))
        }
        try await e.loop.submit {
            send([0, 0, 0, 5, 1, 2, 3])          // not sFlow v5
            for i in 1...20 { send(stranger(UInt32(i))) }
            e.runRound()
        }.get()
        #expect(try await e.loop.submit { e.summary()["unmappedPorts"] }.get() == "0")   // within the grace
        try await Task.sleep(for: .milliseconds(1200))
        let s = try await e.loop.submit {
            for i in 21...40 { send(stranger(UInt32(i))) }
            e.runRound()
            return e.summary()
        }.get()
        #expect(s["malformedDatagrams"] == "1")
        #expect(Int(s["unmappedPorts"].map { "\($0)" } ?? "") ?? 0 >= 1)
        #expect(s["rounds"] == "2")
        #expect(s["samples"] == "40")
    }
}
