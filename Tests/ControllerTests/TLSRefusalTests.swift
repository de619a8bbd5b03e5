// TLS refusals (issue 13), over loopback with swift-nio-ssl against the real TLS listener: a switch whose
// certificate comes from another CA, a switch whose certificate has expired, and a plain-TCP switch
// saying HELLO in clear to the TLS port are each refused, logged once (one line per connection, with
// its reason), and the listener goes on serving a good TLS switch afterwards. Certificates are made at
// test time with the openssl CLI in a temporary directory.
import Controller
import FabricProgramming
import Foundation
import Logging
import NIOCore
import NIOPosix
import OpenFlow
import Testing

/// A switch certificate signed by `certs`' CA but valid only on 1-2 January 2020 (`openssl ca` takes
/// explicit dates; `x509 -req` cannot make a certificate that has already expired).
func makeExpiredSwitchCertificate(_ certs: (dir: URL, controller: OpenFlowTLSFiles, switch: OpenFlowTLSFiles)) throws -> OpenFlowTLSFiles {
    let dir = certs.dir
    func sh(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd '\(dir.path)' && (\(command)) >/dev/null 2>&1"]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SessionClosedError(reason: "\(command) failed") }
    }
    try "[ca]\ndefault_ca=t\n[t]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n"
        .write(to: dir.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
    try sh("touch index.txt && echo 1000 > serial")
    try sh("openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj /CN=expired-switch")
    try sh("openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem "
           + "-startdate 20200101000000Z -enddate 20200102000000Z -notext")
    return OpenFlowTLSFiles(certificateFile: dir.appendingPathComponent("expired.pem").path,
                            privateKeyFile: dir.appendingPathComponent("expired.key").path, caFile: certs.switch.caFile)
}

@Suite("TLS refusals", .serialized)
struct TLSRefusalTests {
    @Test("another CA's certificate, an expired certificate and plain TCP are refused, each logged once; a good switch is served after")
    func refusals() async throws {
        let certs = try makeCertificates()
        let other = try makeCertificates()
        defer {
            try? FileManager.default.removeItem(at: certs.dir)
            try? FileManager.default.removeItem(at: other.dir)
        }
        let expired = try makeExpiredSwitchCertificate(certs)
        let h = try await HostileHarness(tls: certs.controller)
        defer { h.server.close(promise: nil) }

        // Each refused connection: the server ends it, and one more close line (category tls) appears, for
        // a peer no earlier line named. (Counted, not matched by the client's address: a refused channel
        // may be closed before its address can be read.)
        var peers: Set<String> = []
        func expectRefused(_ ch: any Channel, _ what: String) async throws {
            try await ch.closeFuture.get()
            let want = peers.count + 1
            #expect(try await eventually(30) { h.logs.count("switch session closed") >= want }, "\(what): no close line")
            let lines = h.logs.records.withLock { $0.filter { LogStore.closeMessages.contains($0.message) } }
            #expect(lines.count == want, "\(what): \(lines.map(\.metadata))")
            guard let last = lines.last else { return }
            #expect(last.metadata["category"] == SessionCloseCategory.tls.rawValue, "\(what): \(last.metadata)")
            #expect(last.metadata["reason"]?.contains("TLS") == true)
            #expect(peers.insert(last.metadata["peer"] ?? "?").inserted, "\(what): a second line for one connection")
        }

        // 1. A certificate from another CA (it trusts the controller's CA, so only the server can refuse).
        let stranger = OpenFlowTLSFiles(certificateFile: other.switch.certificateFile,
                                        privateKeyFile: other.switch.privateKeyFile, caFile: certs.switch.caFile)
        let s1 = FakeSwitchState(dpid: 11)
        let c1 = try await FakeSwitch.connect(port: h.port, state: s1, tls: try stranger.makeClientContext())
        try await expectRefused(c1, "another CA")

        // 2. An expired certificate from the right CA.
        let s2 = FakeSwitchState(dpid: 11)
        let c2 = try await FakeSwitch.connect(port: h.port, state: s2, tls: try expired.makeClientContext())
        try await expectRefused(c2, "expired")

        // 3. Plain TCP: an OpenFlow HELLO in clear to the TLS port.
        let c3 = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: h.port).get()
        try await c3.writeAndFlush(ByteBuffer(bytes: [4, 0, 0, 8, 0, 0, 0, 1]))
        try await expectRefused(c3, "plain TCP")

        // None of them got a session or a single flow-mod.
        #expect(h.log.active.isEmpty)
        #expect(s1.snapshot.flowModCount == 0 && s2.snapshot.flowModCount == 0)
        #expect(h.log.closed.count == 3)

        // A good TLS switch is served afterwards: handshake, reconciliation, a confirmed batch.
        let good = FakeSwitchState(dpid: 12)
        let g = try await FakeSwitch.connect(port: h.port, state: good, tls: try certs.switch.makeClientContext())
        defer { g.close(promise: nil) }
        #expect(try await eventually(30) { h.reconciled(12) == 1 })
        try await h.expectGoodSwitchServed(good, g)
        #expect(h.logs.records.withLock { $0.filter { LogStore.closeMessages.contains($0.message) }.count } == 3)
    }
}
