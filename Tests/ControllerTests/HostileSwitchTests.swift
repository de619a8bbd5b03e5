// A hostile switch (issue 13): after a correct HELLO/FEATURES/PORT_DESC/DESC handshake, one fake switch
// sends what no switch should — truncated and oversized messages, another OpenFlow version, floods of
// PORT_STATUS and echo requests, a multipart reply that never ends — to the real listener and session
// code over TCP loopback, while a second, well-behaved fake switch holds a session on the same server.
// Promised: only the hostile session is closed, with its reason logged once (one line per session);
// floods leave the controller with bounded memory and work; the good switch keeps its session (a batch
// is still barrier-confirmed, its fabric reconciliation completes) and the elephant loop's rounds go on.
@testable import Controller
import FabricProgramming
import Foundation
import Logging
import NIOCore
import NIOPosix
import OpenFlow
import Packets
import Synchronization
import Testing
import Topology

/// Every log record, for counting the lines a session's end produced.
final class LogStore: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    let records = Mutex<[Record]>([])

    var logger: Logger {
        var l = Logger(label: "test") { _ in CapturingLogHandler(store: self) }
        l.logLevel = .info
        return l
    }

    /// The lines that report the end of a session (`SwitchSessionHandler.channelInactive`).
    static let closeMessages: Set<String> = ["switch session closed", "switch disconnected"]

    /// Close lines of the session whose peer (the switch's address) is `peer`.
    func closeLines(peer: SocketAddress?) -> [Record] {
        let p = peer.map { "\($0)" } ?? "?"
        return records.withLock { $0.filter { Self.closeMessages.contains($0.message) && $0.metadata["peer"] == p } }
    }

    func count(_ message: String) -> Int { records.withLock { $0.filter { $0.message == message }.count } }
}

struct CapturingLogHandler: LogHandler {
    let store: LogStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all: [String: String] = [:]
        for (k, v) in metadata { all[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { all[k] = "\(v)" }
        let r = LogStore.Record(level: event.level, message: "\(event.message)", metadata: all)
        store.records.withLock { $0.append(r) }
    }
}

/// The real listener with the real fabric keeper (port status recomputes the fabric) and, optionally,
/// a real elephant loop (dry run) that hears the same session events.
struct HostileHarness {
    let log = EventLog()
    let logs = LogStore()
    let keeper: FabricKeeper
    let server: any Channel
    let topology: Topology
    var port: Int { server.localAddress?.port ?? 0 }

    init(config: SwitchSessionConfiguration = .init(echoInterval: .seconds(1), echoMissLimit: 3),
         tls: OpenFlowTLSFiles? = nil, elephants: ElephantLoop? = nil) async throws {
        topology = try leafSpine()
        let logger = logs.logger
        let keeper = FabricKeeper(topology: topology, logger: logger, loop: MultiThreadedEventLoopGroup.singleton.next())
        self.keeper = keeper
        let log = self.log
        let context = SwitchSessionHandler.Context(
            configuration: config, desired: { keeper.desired($0) },
            onEvent: { e in
                keeper.handle(e)
                elephants?.handle(e)
                log.add(e)
            },
            logger: logger)
        let listener = OpenFlowServer.Listener(endpoint: OpenFlowEndpoint(host: "127.0.0.1", port: 0),
                                               tls: try tls?.makeServerContext())
        let s = OpenFlowServer(group: MultiThreadedEventLoopGroup.singleton, listeners: [listener], session: context, logger: logger)
        server = try await s.bind(listener)
    }

    func session(_ dpid: UInt64) -> SwitchSession? { log.active.last { $0.info.datapathID == dpid } }
    func closed(_ dpid: UInt64) -> [String] { log.closed.filter { $0.0 == dpid }.map(\.1) }
    func reconciled(_ dpid: UInt64) -> Int { log.reconciled.filter { $0.datapathID == dpid }.count }

    /// The good switch (l2, dpid 12), connected and reconciled.
    func goodSwitch() async throws -> (FakeSwitchState, any Channel) {
        let good = FakeSwitchState(dpid: 12)
        let ch = try await FakeSwitch.connect(port: port, state: good)
        #expect(try await eventually(30) { reconciled(12) >= 1 })
        return (good, ch)
    }

    /// The hostile switch (l1, dpid 11) after a correct handshake and its first reconciliation, with its
    /// address (what the controller's log lines name as `peer`; a closed channel no longer has it).
    func hostileSwitch(endlessFlowStats: Bool = false) async throws -> (FakeSwitchState, HostileChannel) {
        let bad = FakeSwitchState(dpid: 11)
        let ch = HostileChannel(try await FakeSwitch.connect(port: port, state: bad, endlessFlowStats: endlessFlowStats))
        if endlessFlowStats {
            #expect(try await eventually(30) { session(11) != nil })
        } else {
            #expect(try await eventually(30) { reconciled(11) >= 1 })
        }
        return (bad, ch)
    }

    /// The good switch still holds its session: a batch is barrier-confirmed and its table is the fabric.
    func expectGoodSwitchServed(_ good: FakeSwitchState, _ ch: any Channel) async throws {
        #expect(ch.isActive)
        #expect(closed(12).isEmpty)
        let s = try #require(session(12))
        let r = try await s.submit([.flowMod(FlowMod(cookie: 0x5442_0000_0000_0003, priority: 3, match: [.ethType(0x0806)]))])
        #expect(r.succeeded)
        let table = try #require(keeper.desired(12))
        #expect(try await eventually(30) {
            let t = good.snapshot
            let ours = t.flows.filter { FabricCookie(rawValue: $0.cookie).isFabric }
            return Set(ours.map(\.cookie)) == Set(table.flows.keys.map(\.rawValue)) && Set(t.groups.keys) == Set(table.groups.keys)
        })
    }

    /// The hostile session ended for `category`, with exactly one log line saying so.
    func expectClosedOnce(_ hc: HostileChannel, dpid: UInt64 = 11, category: SessionCloseCategory, reason: String) async throws {
        let (ch, peer) = (hc.channel, hc.address)
        #expect(try await eventually(30) { !closed(dpid).isEmpty })
        try await ch.closeFuture.get()
        #expect(try await eventually(30) { !logs.closeLines(peer: peer).isEmpty })
        let lines = logs.closeLines(peer: peer)
        #expect(lines.count == 1, "close lines: \(lines.map(\.metadata))")
        #expect(lines.first?.metadata["category"] == category.rawValue)
        #expect(lines.first?.metadata["reason"]?.contains(reason) == true, "reason: \(lines.first?.metadata["reason"] ?? "-")")
        #expect(closed(dpid).count == 1)
        #expect(closed(dpid).first?.contains(reason) == true)
    }
}

/// A hostile switch's channel and its address, read while it was connected.
struct HostileChannel {
    let channel: any Channel
    let address: SocketAddress?
    init(_ channel: any Channel) {
        self.channel = channel
        address = channel.localAddress
    }
}

/// Encodes messages as they would be written by the project's encoder (valid framing).
func wire(_ envelopes: [OpenFlowEnvelope]) throws -> ByteBuffer {
    var b = ByteBuffer()
    for e in envelopes { _ = try b.writeOpenFlowEnvelope(e) }
    return b
}

@Suite("Hostile switch", .serialized)
struct HostileSwitchTests {
    @Test("a header length below 8 after the handshake closes only that session")
    func lengthBelowHeader() async throws {
        let h = try await HostileHarness()
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (_, bad) = try await h.hostileSwitch()
        let old = try #require(h.session(11))
        try await bad.channel.writeRaw(ByteBuffer(bytes: [4, 2, 0, 4, 0, 0, 0, 9])) // ECHO_REQUEST, length 4
        try await h.expectClosedOnce(bad, category: .framing, reason: "lengthBelowHeader")
        // A batch for the gone session fails; it never waits forever.
        await #expect(throws: SessionClosedError.self) { _ = try await old.submit([]) }
        try await h.expectGoodSwitchServed(good, gch)
    }

    @Test("a message cut short by the switch hanging up is reported as such, once")
    func cutShortThenClosed() async throws {
        let h = try await HostileHarness()
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (_, bad) = try await h.hostileSwitch()
        var b = ByteBuffer(bytes: [4, 2, 0x03, 0xE8, 0, 0, 0, 9]) // ECHO_REQUEST claiming 1000 bytes
        b.writeRepeatingByte(0xAB, count: 100)
        try await bad.channel.writeRaw(b)
        try await bad.channel.close()
        try await h.expectClosedOnce(bad, category: .framing, reason: "108 of 1000 bytes")
        try await h.expectGoodSwitchServed(good, gch)
    }

    @Test("messages of the largest length with junk bodies: each answered with an ERROR, the session closed at the limit")
    func oversizedJunk() async throws {
        let h = try await HostileHarness()
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (bad, bch) = try await h.hostileSwitch()
        var b = ByteBuffer()
        // Exactly as many as close the session: the controller has read everything when it closes.
        for i in 0...32 {
            // PORT_STATUS (a fixed 80-byte body, OF 1.3.5 §7.4.3) claiming 65535 bytes of junk.
            b.writeBytes([4, 12, 0xFF, 0xFF])
            b.writeInteger(UInt32(1000 + i))
            b.writeRepeatingByte(UInt8(i), count: 65535 - 8)
        }
        try? await bch.channel.writeRaw(b)
        try await h.expectClosedOnce(bch, category: .malformed, reason: "limit 32")
        // Every one before the limit was answered with an ERROR carrying its xid (OF 1.3.5 §7.4.4).
        #expect(bad.snapshot.errorsSeen.count >= 32)
        #expect(bad.snapshot.errorsSeen.allSatisfy { $0.kind == .badRequestBadLen })
        try await h.expectGoodSwitchServed(good, gch)
    }

    @Test("another OpenFlow version after 1.3 was agreed: BAD_VERSION, then closed")
    func wrongVersion() async throws {
        let h = try await HostileHarness()
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (bad, bch) = try await h.hostileSwitch()
        try await bch.channel.writeRaw(ByteBuffer(bytes: [6, 2, 0, 8, 0, 0, 0, 77])) // ECHO_REQUEST, version 6
        try await h.expectClosedOnce(bch, category: .version, reason: "version")
        #expect(bad.snapshot.errorsSeen.map(\.kind) == [.badRequestBadVersion])
        try await h.expectGoodSwitchServed(good, gch)
    }

    @Test("a multipart reply that never ends: what the session holds is bounded, and the session is closed")
    func endlessMultipart() async throws {
        let limit = 20_000
        let h = try await HostileHarness(config: .init(echoInterval: .seconds(1), echoMissLimit: 3, multipartLimit: limit))
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (bad, bch) = try await h.hostileSwitch(endlessFlowStats: true)
        try await h.expectClosedOnce(bch, category: .limit, reason: "multipart limit")
        // Closed at the limit (50 entries a part), not after whatever the switch managed to send.
        let reason = try #require(h.closed(11).first)
        let held = try #require(reason.firstMatch(of: /\((\d+) flows/).flatMap { Int($0.1) })
        #expect(held <= limit + 50, "\(reason)")
        #expect(reason.contains("limit \(limit)"))
        #expect(bad.snapshot.endlessParts > limit / 51)
        print("hostile switch, endless multipart: closed after \(held) flows held (limit \(limit)); the switch wrote \(bad.snapshot.endlessParts) parts")
        #expect(h.reconciled(11) == 0)
        try await h.expectGoodSwitchServed(good, gch)
    }

    @Test("100,000 PORT_STATUS as fast as the switch can: fabric recomputes and immediate rounds coalesced, log bounded, rounds go on")
    func portStatusFlood() async throws {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        // The real elephant loop (dry run), with its round timer.
        let elephants = try ElephantLoop(topology: try leafSpine(), options: ElephantLoopOptions(dryRun: true),
                                         loop: MultiThreadedEventLoopGroup.singleton.next(), logger: quiet)
        try await elephants.loop.submit { elephants.startTimers() }.get()
        defer { elephants.loop.execute { elephants.stopTimers() } }
        let h = try await HostileHarness(elephants: elephants)
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (_, bch) = try await h.hostileSwitch()
        let roundsBefore = try await elephants.loop.submit { elephants.roundCount }.get()

        // l1's port 3 (its link to s1) flaps: down, up, down, ... and ends up.
        let n = 100_000
        var sent = 0
        while sent < n {
            let chunk = (sent..<min(n, sent + 2000)).map { i in
                OpenFlowEnvelope(xid: 0, message: .portStatus(PortStatus(
                    reason: .modify,
                    port: SwitchPort(portNumber: PortNumber(3), hardwareAddress: MACAddress(3), name: "p3",
                                     state: i % 2 == 0 ? 1 : 0))))
            }
            try await bch.channel.writeRaw(try wire(chunk))
            sent += chunk.count
        }
        // The last one (up) has been heard once an echo sent after it comes back.
        let s = try #require(h.session(11))
        _ = try await s.submit([])
        #expect(try await eventually(60) { h.keeper.downLinks.isEmpty })

        let recomputes = h.keeper.recomputations
        let rounds = try await elephants.loop.submit { elephants.roundCount }.get() - roundsBefore
        // 50,000 changes of the link; coalesced, a recompute (and a round) per `minimumInterval` at most.
        print("hostile switch, \(n) PORT_STATUS: \(recomputes) fabric recomputations, \(rounds) control rounds, "
              + "\(h.reconciled(12)) reconciliations of the good switch, \(h.logs.count("port status")) port status log lines")
        #expect(recomputes < n / 20, "fabric recomputed \(recomputes) times for \(n) port status")
        #expect(rounds < n / 20, "\(rounds) rounds for \(n) port status")
        // The log: the first port status, then powers of two.
        #expect(h.logs.count("port status") < 64)
        #expect(h.logs.count("fabric link down: recomputing the fabric without it") <= recomputes)
        // A flood of well-formed messages is no reason to close.
        #expect(bch.channel.isActive)
        #expect(h.closed(11).isEmpty)
        // The good switch ends with the full fabric again, and the loop's rounds go on. (The last
        // recompute is coalesced like the others: it may come up to a `minimumInterval` after the
        // link is heard up, later still on a loaded machine.)
        let full = ProactiveFabric(topology: h.topology).desiredState()[12]
        #expect(try await eventually(60) { h.keeper.desired(12) == full })
        try await h.expectGoodSwitchServed(good, gch)
        let after = try await elephants.loop.submit { elephants.roundCount }.get()
        var now = after
        for _ in 0..<300 where now < after + 2 {
            try await Task.sleep(for: .milliseconds(100))
            now = try await elephants.loop.submit { elephants.roundCount }.get()
        }
        #expect(now >= after + 2, "rounds after the flood: \(now - after)")
    }

    @Test("an echo-request flood from a switch that reads nothing: what is buffered for it stays bounded; the good switch goes on")
    func echoFlood() async throws {
        let h = try await HostileHarness()
        defer { h.server.close(promise: nil) }
        let (good, gch) = try await h.goodSwitch()
        defer { gch.close(promise: nil) }
        let (_, bch) = try await h.hostileSwitch()
        let session = try #require(h.session(11))
        // The hostile switch stops reading: the replies pile up on the controller's side.
        try await bch.channel.setOption(ChannelOptions.autoRead, value: false).get()

        let peak = Peak()
        async let watcher: Void = {
            while peak.watching.withLock({ $0 }) {
                guard let b = try? await session.channel.getOption(ChannelOptions.bufferedWritableBytes).get() else { break }
                peak.bytes.withLock { $0 = max($0, b) }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }()
        // 100,000 echo requests with 1 KiB of data each (100 MiB of replies if all were answered).
        let payload = ByteBuffer(repeating: 0x5A, count: 1024)
        let chunk = try wire((0..<500).map { OpenFlowEnvelope(xid: UInt32($0 + 1), message: .echoRequest(payload)) })
        var written = 0
        for _ in 0..<200 {
            do { try await bch.channel.writeRaw(chunk) } catch { break }
            written += 500
        }
        // The switch that reads nothing misses the controller's echo requests too: closed by the keepalive.
        try await h.expectClosedOnce(bch, category: .keepalive, reason: "echo requests unanswered")
        peak.watching.withLock { $0 = false }
        await watcher
        let most = peak.bytes.withLock { $0 }
        print("hostile switch, echo flood: \(written) requests of 1 KiB written before the close; at most \(most) bytes buffered for it")
        // Bounded by the channel's high-water mark plus one read's replies, not by the flood (≈100 MiB).
        #expect(most < 4 << 20, "peak buffered for the flooding switch: \(most) bytes after \(written) requests written")
        try await h.expectGoodSwitchServed(good, gch)
    }
}

/// The most bytes seen buffered for a session, while watched.
final class Peak: Sendable {
    let bytes = Mutex<Int>(0)
    let watching = Mutex<Bool>(true)
}
