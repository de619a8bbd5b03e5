import Foundation
import NIOCore
import NIOPosix
import Packets
import SFlowIngest
import Synchronization
import Testing
@testable import SFlow

/// A directory of its own under the system temporary directory, removed at the end.
struct TempDir: ~Copyable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tusk-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("Captures and the UDP collector")
struct CaptureTests {
    static let agent = IPv4Address(192, 0, 2, 1)
    static let collector = IPv4Address(192, 0, 2, 100)

    static func sflowFrame(_ payload: [UInt8], srcPort: UInt16 = 50_000, dstPort: UInt16 = 6343, id: UInt16 = 1) -> [UInt8] {
        FrameBuilder.udpOverIPv4(src: agent, dst: collector, srcPort: srcPort, dstPort: dstPort, payload: payload, id: id)
    }

    /// A synthetic datagram bigger than one 576-byte IP packet.
    static let big: [UInt8] = {
        var c = SyntheticSFlow.Config()
        c.agents = 1
        c.flows = 16
        c.samplesPerDatagram = 8
        var g = SyntheticSFlow(config: c)
        return SFlowEncoder.encode(g.nextDatagram(agent: 0, uptimeMs: 1234))
    }()

    @Test("a pcap written with PcapWriter reads back frame by frame, datagram by datagram")
    func pcapRoundTrip() throws {
        let dir = try TempDir()
        let path = dir.path("sflow.pcap")
        let fragments = FrameBuilder.fragmentedUDPOverIPv4(src: Self.agent, dst: Self.collector, srcPort: 50_000, dstPort: 6343,
                                                           payload: Self.big, id: 4242, mtu: 576)
        #expect(fragments.count >= 3)
        let tcp: [UInt8] = {
            var f = Self.sflowFrame(Golden.e)
            f[14 + 9] = 6  // protocol TCP: not ours
            return f
        }()
        var frames: [[UInt8]] = [Self.sflowFrame(Golden.a), Self.sflowFrame(Array(Golden.c), id: 2),
                                 Self.sflowFrame(Array("dns?".utf8), dstPort: 53, id: 3), tcp]
        frames += fragments.reversed()            // reassembled whatever the order
        frames.append(Array(Self.sflowFrame(Golden.d).prefix(30)))  // cut inside the IPv4 header
        let t0: UInt64 = 1_700_000_000_123_456_000
        let w = try PcapWriter(path: path)
        for (i, f) in frames.enumerated() { w.write(f, timeNanos: t0 + UInt64(i) * 1_000_000) }
        w.close()

        let reader = try SFlowCaptureReader(file: path)
        #expect(reader.source.linkType == .ethernet)
        var datagrams: [(UDPDatagram, Double, UInt64)] = []
        var malformed: [String] = []
        let finished = try reader.forEach { item in
            switch item {
            case .datagram(let d, let time, let nanos): datagrams.append((d, time, nanos))
            case .malformed(let why, _): malformed.append(why)
            }
            return true
        }
        #expect(finished)
        #expect(datagrams.map(\.0.payload) == [Golden.a, Golden.c, Self.big])
        #expect(datagrams.allSatisfy { $0.0.src == .v4(Self.agent) && $0.0.dstPort == 6343 && $0.0.srcPort == 50_000 })
        #expect(datagrams.first?.2 == t0)
        #expect(abs((datagrams.first?.1 ?? 0) - 1_700_000_000.123456) < 1e-6)
        // The reassembled datagram is stamped with the frame that completed it (the last written).
        #expect(datagrams.last?.2 == t0 + UInt64(4 + fragments.count - 1) * 1_000_000)
        #expect(malformed.count == 1)
        let c = reader.counts
        #expect(c.frames == frames.count)
        #expect(c.udpDatagrams == 4)
        #expect(c.ignored == 2)
        #expect(c.fragmentsHeld == fragments.count - 1)
        #expect(c.reassembled == 1)
        #expect(c.malformedFrames == 1)
        // What came out decodes cleanly.
        for (d, _, _) in datagrams { #expect(try SFlowDecoder.decode(d.payload).isClean) }
    }

    @Test("port 0 takes every UDP datagram")
    func anyPort() throws {
        let dir = try TempDir()
        let path = dir.path("any.pcap")
        let w = try PcapWriter(path: path)
        w.write(Self.sflowFrame(Golden.a, dstPort: 9999), timeNanos: 1)
        w.write(Self.sflowFrame(Golden.b, dstPort: 6343), timeNanos: 2)
        w.close()
        let reader = try SFlowCaptureReader(file: path, port: 0)
        var ports: [UInt16] = []
        try reader.forEach { if case .datagram(let d, _, _) = $0 { ports.append(d.dstPort) }; return true }
        #expect(ports == [9999, 6343])
    }

    @Test("a raw-IP capture reads too")
    func rawIPCapture() throws {
        let dir = try TempDir()
        let path = dir.path("raw.pcap")
        // DLT_RAW is 12 on Linux (libpcap stores it in the file as LINKTYPE_RAW, 101).
        let w = try PcapWriter(path: path, linkType: .rawIPAlt)
        w.write(Array(Self.sflowFrame(Golden.c).dropFirst(14)), timeNanos: 5_000)
        w.close()
        let reader = try SFlowCaptureReader(file: path)
        var payloads: [[UInt8]] = []
        try reader.forEach { if case .datagram(let d, _, _) = $0 { payloads.append(d.payload) }; return true }
        #expect(payloads == [Golden.c])
    }

    @Test("stopping early returns false")
    func stopEarly() throws {
        let dir = try TempDir()
        let path = dir.path("stop.pcap")
        let w = try PcapWriter(path: path)
        for i in 0..<5 { w.write(Self.sflowFrame(Golden.a), timeNanos: UInt64(i)) }
        w.close()
        let reader = try SFlowCaptureReader(file: path)
        var seen = 0
        let finished = try reader.forEach { _ in seen += 1; return seen < 2 }
        #expect(!finished && seen == 2)
    }

    @Test("a file that is not a capture gives a PcapError naming the file")
    func notACapture() throws {
        let dir = try TempDir()
        let path = dir.path("notes.txt")
        try Data("this is not a pcap file, just some text long enough to have a header\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SFlowCaptureReader(file: path)
            Issue.record("opened a text file as a capture")
        } catch let e as PcapError {
            #expect(e.description.contains(path))
        }
        let missing = dir.path("missing.pcap")
        do {
            _ = try SFlowCaptureReader(file: missing)
            Issue.record("opened a missing file")
        } catch let e as PcapError {
            #expect(e.description.contains(missing))
        }
    }

    // MARK: Live UDP on loopback

    final class Sink: SFlowDatagramSink {
        let got = Mutex<[(bytes: [UInt8], time: UInt64, from: SocketAddress?)]>([])
        func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
            got.withLock { $0.append(([UInt8](bytes), timeNanos, from)) }
        }
        var count: Int { got.withLock { $0.count } }
    }

    @Test("SFlowCollector receives what UDPSender sends, byte for byte", arguments: ["127.0.0.1", "::1"])
    func loopback(host: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink = Sink()
        let collector: SFlowCollector
        do {
            collector = try await SFlowCollector.start(config: SFlowCollectorConfig(host: host, port: 0), group: group,
                                                       sink: sink, clock: { 42 })
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        let port = try #require(collector.localAddress?.port)
        #expect(port > 0)
        let sender = try UDPSender(host: host, port: port)

        var c = SyntheticSFlow.Config()
        c.agents = 2
        c.flows = 100
        var g = SyntheticSFlow(config: c)
        var sent: [[UInt8]] = Golden.all.map(\.bytes)
        for i in 0..<100 { sent.append(SFlowEncoder.encode(g.nextDatagram(agent: i % 2, uptimeMs: UInt32(1000 + i)))) }

        try await Self.sendInSteps(sent, of: 15, with: sender) { sink.count }
        let got = sink.got.withLock { $0 }
        #expect(got.count == sent.count)
        #expect(got.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) } == sent.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(got.allSatisfy { $0.time == 42 })
        #expect(got.allSatisfy { $0.from?.port != nil && $0.from?.port != port })
        let counts = collector.counters
        #expect(counts.datagrams == UInt64(sent.count))
        #expect(counts.bytes == UInt64(sent.map(\.count).reduce(0, +)))
        #expect(sender.sent == UInt64(sent.count) && sender.failed == 0)
        // Everything received decodes.
        #expect(got.allSatisfy { (try? SFlowDecoder.decode($0.bytes))?.isClean == true })

        try await collector.close()
        try await group.shutdownGracefully()
    }

    /// Sends in steps small enough for any receive buffer, waiting after each until `received()`
    /// has caught up (bounded polling; no timing is asserted).
    static func sendInSteps(_ datagrams: [[UInt8]], of step: Int, with sender: UDPSender, received: () -> Int) async throws {
        var offset = 0
        while offset < datagrams.count {
            let batch = datagrams[offset..<min(offset + step, datagrams.count)]
            #expect(sender.send(batch) == batch.count)
            offset += batch.count
            var polls = 0
            while received() < offset, polls < 2000 {
                try await Task.sleep(for: .milliseconds(5))
                polls += 1
            }
        }
    }

    /// Records which socket each datagram came in on.
    final class ReaderSink: SFlowDatagramSink {
        let got = Mutex<[(reader: Int, bytes: [UInt8])]>([])
        func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
            Issue.record("a batch sink got a single datagram")
        }
        func received(_ batch: DatagramBatch, reader: Int) {
            var all: [(Int, [UInt8])] = []
            batch.forEach { b, _, _ in all.append((reader, [UInt8](b))) }
            got.withLock { $0 += all.map { (reader: $0.0, bytes: $0.1) } }
        }
        var count: Int { got.withLock { $0.count } }
    }

    @Test("two SO_REUSEPORT sockets: every datagram once, each sub-agent always on one socket, in order, both sockets used",
          arguments: ["127.0.0.1", "::1"])
    func reusePortSharding(host: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let sink = ReaderSink()
        var config = SFlowCollectorConfig(host: host, port: 0)
        config.sockets = 2
        let collector: SFlowCollector
        do {
            collector = try await SFlowCollector.start(config: config, group: group, sink: sink, clock: { 7 })
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        #expect(collector.socketCount == 2)
        #expect(collector.shardNote == nil)
        let port = try #require(collector.localAddress?.port)
        // One sending socket for every agent, as a replay is: only the agent-sharding program
        // can spread these (the kernel's own hash of the sender's address would not).
        let sender = try UDPSender(host: host, port: port)
        var c = SyntheticSFlow.Config()
        c.agents = 4
        c.flows = 50
        var g = SyntheticSFlow(config: c)
        var sent: [SFlowDatagram] = []
        for i in 0..<200 {
            var d = g.nextDatagram(agent: i % 4, uptimeMs: UInt32(1000 + i))
            // Agents 10.0.0.1 ... and, for the last two, one address with two sub-agents.
            if i % 4 >= 2 { d.agent = .v4(IPv4Address(192, 0, 2, 9)); d.subAgentId = UInt32(i % 4) }
            sent.append(d)
        }
        try await Self.sendInSteps(sent.map { SFlowEncoder.encode($0) }, of: 20, with: sender) { sink.count }
        let got = sink.got.withLock { $0 }
        #expect(got.count == sent.count)
        var readerOf: [SubAgentKey: Set<Int>] = [:]
        var sequences: [SubAgentKey: [UInt32]] = [:]
        for (reader, bytes) in got {
            let d = try SFlowDecoder.decode(bytes).datagram
            let k = SubAgentKey(agent: d.agent, subAgentId: d.subAgentId)
            readerOf[k, default: []].insert(reader)
            sequences[k, default: []].append(d.sequence)
        }
        #expect(readerOf.count == 4)
        #expect(readerOf.values.allSatisfy { $0.count == 1 })
        #expect(Set(readerOf.values.flatMap { $0 }) == [0, 1])
        #expect(sequences.values.allSatisfy { $0 == $0.sorted() && $0.count == 50 })
        #expect(collector.perSocketDatagrams.reduce(0, +) == UInt64(sent.count))
        #expect(collector.perSocketDatagrams.allSatisfy { $0 > 0 })
        try await collector.close()
        try await group.shutdownGracefully()
    }

    @Test("listen addresses parse")
    func listenParsing() {
        func hp(_ s: String) -> String? { SFlowCollectorConfig.parse(listen: s).map { "\($0.host) \($0.port)" } }
        #expect(hp("6343") == "0.0.0.0 6343")
        #expect(hp("127.0.0.1:9000") == "127.0.0.1 9000")
        #expect(hp("[::1]:6344") == "::1 6344")
        #expect(hp("[::1]") == "::1 6343")
        #expect(hp("127.0.0.1:70000") == nil)
        #expect(hp("[::1:6343") == nil)
    }
}
