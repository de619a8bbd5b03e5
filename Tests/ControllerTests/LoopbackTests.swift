// In-process loopback: the real listener and session handler against fake switches over TCP and
// TLS (mutual certificates made with the openssl CLI in a temporary directory at test time).
import Controller
import FabricProgramming
import Foundation
import Logging
import NIOCore
import NIOPosix
import OpenFlow
import Packets
import Synchronization
import Testing

final class EventLog: Sendable {
    let events = Mutex<[SessionEvent]>([])
    func add(_ e: SessionEvent) { events.withLock { $0.append(e) } }
    var reconciled: [ReconciliationReport] {
        events.withLock { $0.compactMap { if case .reconciled(let r) = $0 { return r }; return nil } }
    }
    var active: [SwitchSession] {
        events.withLock { $0.compactMap { if case .active(let s) = $0 { return s }; return nil } }
    }
    var closed: [(UInt64?, String)] {
        events.withLock { $0.compactMap { if case .closed(let d, let r) = $0 { return (d, r) }; return nil } }
    }
}

struct Harness {
    let log = EventLog()
    let server: any Channel
    var port: Int { server.localAddress?.port ?? 0 }

    init(tls: OpenFlowTLSFiles? = nil, config: SwitchSessionConfiguration = .init()) async throws {
        let desired = ProactiveFabric(topology: try leafSpine()).desiredState()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let log = self.log
        let context = SwitchSessionHandler.Context(configuration: config, desired: { desired[$0] },
                                                   onEvent: { log.add($0) }, logger: logger)
        let listener = OpenFlowServer.Listener(endpoint: OpenFlowEndpoint(host: "127.0.0.1", port: 0),
                                               tls: try tls?.makeServerContext())
        let s = OpenFlowServer(group: MultiThreadedEventLoopGroup.singleton, listeners: [listener], session: context, logger: logger)
        server = try await s.bind(listener)
    }
}

/// Makes a CA, a controller certificate and a switch certificate with the openssl CLI.
func makeCertificates() throws -> (dir: URL, controller: OpenFlowTLSFiles, switch: OpenFlowTLSFiles) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tusk-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func openssl(_ args: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd '\(dir.path)' && openssl \(args) 2>/dev/null"]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SessionClosedError(reason: "openssl \(args) failed") }
    }
    try openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=tusk-test-ca")
    for name in ["controller", "switch"] {
        try openssl("req -newkey rsa:2048 -nodes -keyout \(name).key -out \(name).csr -subj /CN=\(name)")
        try openssl("x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -out \(name).pem -days 2")
    }
    func files(_ n: String) -> OpenFlowTLSFiles {
        OpenFlowTLSFiles(certificateFile: dir.appendingPathComponent("\(n).pem").path,
                         privateKeyFile: dir.appendingPathComponent("\(n).key").path,
                         caFile: dir.appendingPathComponent("ca.pem").path)
    }
    return (dir, files("controller"), files("switch"))
}

func expectProgrammed(_ sw: FakeSwitchState, _ table: SwitchTable, plus foreign: Int = 0) {
    let t = sw.snapshot
    let ours = t.flows.filter { FabricCookie(rawValue: $0.cookie).isFabric }
    #expect(ours.count == table.flows.count)
    #expect(Set(ours.map(\.cookie)) == Set(table.flows.keys.map(\.rawValue)))
    for f in ours {
        let d = table.flows[FabricCookie(rawValue: f.cookie)]
        #expect(d?.instructions == f.instructions)
        #expect(d.map { Set($0.match.fields) } == Set(f.match.fields))
    }
    #expect(t.flows.count == table.flows.count + foreign)
    #expect(Set(t.groups.keys) == Set(table.groups.keys))
}

@Suite("Loopback sessions", .serialized)
struct LoopbackTests {
    let fabric: FabricState
    init() throws { fabric = ProactiveFabric(topology: try leafSpine()).desiredState() }

    func reconcileOver(tls: (controller: OpenFlowTLSFiles, switch: OpenFlowTLSFiles)?) async throws {
        let h = try await Harness(tls: tls?.controller)
        defer { h.server.close(promise: nil) }
        let table = fabric[11]!
        // The switch already holds: one correct entry, one stale fabric entry, one foreign entry.
        var pre = FakeTables()
        let keep = table.flows.values.sorted { $0.cookie < $1.cookie }[0]
        pre.flows = [
            FakeFlow(tableID: 0, priority: keep.priority, cookie: keep.cookie.rawValue, match: keep.match, instructions: keep.instructions),
            FakeFlow(tableID: 0, priority: 0x8000, cookie: FabricCookie.fabric(.ipv4, id: 77).rawValue,
                     match: [.ethType(0x0800), .ipv4Dst(IPv4Address(10, 9, 9, 9))], instructions: []),
            FakeFlow(tableID: 0, priority: 5, cookie: 0x7e57, match: [.ethType(0x88cc)], instructions: []),
        ]
        let sw = FakeSwitchState(dpid: 11, tables: pre)
        let clientTLS = try tls.map { try $0.switch.makeClientContext() }
        let ch = try await FakeSwitch.connect(port: h.port, state: sw, tls: clientTLS)
        defer { ch.close(promise: nil) }
        #expect(try await eventually { h.log.reconciled.count == 1 })
        let r = try #require(h.log.reconciled.first)
        #expect(r.datapathID == 11)
        #expect(r.flowsUntouched == 1)
        #expect(r.flowsDeleted == 1)
        #expect(r.flowsAdded == table.flows.count - 1)
        #expect(r.foreignFlows == 1)
        #expect(r.groupsAdded == 1)
        #expect(r.failures.isEmpty)
        expectProgrammed(sw, table, plus: 1)

        // Reconnect (the same switch coming back): nothing to change, nothing duplicated.
        ch.close(promise: nil)
        #expect(try await eventually { h.log.closed.count == 1 })
        let modsBefore = sw.snapshot.flowModCount
        let ch2 = try await FakeSwitch.connect(port: h.port, state: sw, tls: clientTLS)
        defer { ch2.close(promise: nil) }
        #expect(try await eventually { h.log.reconciled.count == 2 })
        let r2 = try #require(h.log.reconciled.last)
        #expect(r2.flowsAdded == 0 && r2.flowsDeleted == 0 && r2.groupsAdded == 0 && r2.groupsDeleted == 0)
        #expect(r2.flowsUntouched == table.flows.count)
        #expect(sw.snapshot.flowModCount == modsBefore)
        expectProgrammed(sw, table, plus: 1)

        // Batches through the session handle are barrier-confirmed; errors come back tied to their request.
        let session = try #require(h.log.active.last)
        let g = table.groups.values.first!
        let result = try await session.submit([
            .flowMod(FlowMod(cookie: 0x5442_0000_0000_0001, priority: 1, match: [.ethType(0x0800)])),
            .groupMod(g.groupMod(.add)), // exists already: GROUP_EXISTS
        ])
        #expect(result.messageCount == 2)
        #expect(result.failures.count == 1)
        #expect(result.failures.first?.request == .groupMod(g.groupMod(.add)))
        #expect(result.failures.first?.error.kind == OpenFlowErrorKind(type: .groupModFailed, code: 0))
    }

    @Test("TCP: a fake switch is reconciled (missing added, stale deleted, matching and foreign kept), then again after reconnecting")
    func tcp() async throws {
        try await reconcileOver(tls: nil)
    }

    @Test("TLS with mutual certificates: the same")
    func tls() async throws {
        let certs = try makeCertificates()
        defer { try? FileManager.default.removeItem(at: certs.dir) }
        try await reconcileOver(tls: (certs.controller, certs.switch))
    }

    @Test("TLS: a switch without a certificate from the CA is refused")
    func tlsRefusesStranger() async throws {
        let certs = try makeCertificates()
        let other = try makeCertificates()
        defer {
            try? FileManager.default.removeItem(at: certs.dir)
            try? FileManager.default.removeItem(at: other.dir)
        }
        let h = try await Harness(tls: certs.controller)
        defer { h.server.close(promise: nil) }
        // The stranger trusts the controller's CA but shows a certificate from another CA.
        let stranger = OpenFlowTLSFiles(certificateFile: other.switch.certificateFile,
                                        privateKeyFile: other.switch.privateKeyFile, caFile: certs.switch.caFile)
        let sw = FakeSwitchState(dpid: 12)
        let ch = try? await FakeSwitch.connect(port: h.port, state: sw, tls: try stranger.makeClientContext())
        defer { ch?.close(promise: nil) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(h.log.active.isEmpty)
        #expect(sw.snapshot.flowModCount == 0)
    }

    @Test("malformed input closes only that switch's session; others go on")
    func malformedIsolated() async throws {
        let h = try await Harness()
        defer { h.server.close(promise: nil) }
        let good = FakeSwitchState(dpid: 12)
        let gch = try await FakeSwitch.connect(port: h.port, state: good)
        defer { gch.close(promise: nil) }
        #expect(try await eventually { h.log.reconciled.count == 1 })

        // A raw client that says HELLO, then sends a header whose length is below 8.
        let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: h.port).get()
        var b = ByteBuffer()
        b.writeBytes([4, 0, 0, 8, 0, 0, 0, 1])        // HELLO (no elements)
        b.writeBytes([4, 2, 0, 4, 0, 0, 0, 2])        // ECHO_REQUEST with length 4
        try await raw.writeAndFlush(b)
        #expect(try await eventually { h.log.closed.count == 1 })
        #expect(h.log.closed.first?.1.contains("framing") == true)
        try await raw.closeFuture.get()                // the controller closed it

        // A second one with a truncated body during the handshake: an ERROR, then closed.
        let raw2 = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: h.port).get()
        var c = ByteBuffer()
        c.writeBytes([4, 0, 0, 8, 0, 0, 0, 1])
        c.writeBytes([4, 6, 0, 12, 0, 0, 0, 3, 0, 0, 0, 0]) // FEATURES_REPLY cut short
        try await raw2.writeAndFlush(c)
        #expect(try await eventually { h.log.closed.count == 2 })
        #expect(h.log.closed.last?.1.contains("malformed") == true)

        // The good switch is unaffected: a batch still goes through.
        let s = try #require(h.log.active.first { $0.info.datapathID == 12 })
        let r = try await s.submit([.flowMod(FlowMod(cookie: 0x5442_0000_0000_0002, priority: 2, match: [.ethType(0x0806)]))])
        #expect(r.succeeded)
        #expect(gch.isActive)
    }

    @Test("a silent switch is closed after the echo miss limit; a switch offering only 1.0 gets HELLO_FAILED")
    func keepaliveAndVersion() async throws {
        let h = try await Harness(config: .init(echoInterval: .milliseconds(100), echoMissLimit: 2))
        defer { h.server.close(promise: nil) }
        let silent = FakeSwitchState(dpid: 1)
        let ch = try await FakeSwitch.connect(port: h.port, state: silent, answersEcho: false)
        #expect(try await eventually { h.log.closed.contains { $0.1.contains("echo") } })
        try await ch.closeFuture.get()

        let old = FakeSwitchState(dpid: 2)
        let ch2 = try await FakeSwitch.connect(port: h.port, state: old, helloVersions: [1])
        try await ch2.closeFuture.get()
        #expect(old.snapshot.errorsSeen.map(\.kind) == [.helloFailedIncompatible])
    }

    @Test("outbound: Tusk connects to a switch that listens (ptcp:) and reconciles it")
    func connectOut() async throws {
        let sw = FakeSwitchState(dpid: 1)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try OpenFlowPipeline.addCodec(ch, tls: nil, isServer: true)
                    try ch.pipeline.syncOperations.addHandler(FakeSwitchHandler(state: sw))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        let log = EventLog()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let context = SwitchSessionHandler.Context(desired: { [fabric] in fabric[$0] }, onEvent: { log.add($0) }, logger: logger)
        let connector = SwitchConnector(group: MultiThreadedEventLoopGroup.singleton,
                                        endpoint: OpenFlowEndpoint(host: "127.0.0.1", port: listener.localAddress?.port ?? 0),
                                        session: context, logger: logger)
        let ch = try await connector.connect()
        defer { ch.close(promise: nil) }
        #expect(try await eventually { log.reconciled.count == 1 })
        expectProgrammed(sw, fabric[1]!)
    }
}
