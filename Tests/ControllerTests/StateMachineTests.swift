// The session state machine step by step: handshake order, version negotiation, keepalive, barrier
// batches, errors tied to requests, reconciliation, malformed input.
import Controller
import FabricProgramming
import NIOCore
import OpenFlow
import Packets
import Testing

typealias Machine = SwitchSessionStateMachine
typealias Action = SwitchSessionStateMachine.Action

func at(_ ms: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000_000 + ms * 1_000_000)) }

extension Array where Element == Action {
    /// Every message the actions write, in order.
    var sent: [OpenFlowEnvelope] {
        flatMap { a -> [OpenFlowEnvelope] in
            if case .send(let e) = a { return e }
            if case .sendAndClose(let e, _) = a { return e }
            return []
        }
    }
    var closeReason: String? {
        for a in self {
            if case .close(let r) = a { return r }
            if case .sendAndClose(_, let r) = a { return r }
        }
        return nil
    }
    var activeInfo: SwitchInfo? {
        for a in self { if case .active(let i) = a { return i } }
        return nil
    }
}

func ok(_ m: OpenFlowMessage, xid: UInt32 = 0, version: UInt8 = 4) -> OpenFlowDecodeResult {
    .success(OpenFlowEnvelope(version: version, xid: xid, message: m))
}

let testDPID: UInt64 = 11
let testPorts = (1...4).map { SwitchPort(portNumber: PortNumber($0), hardwareAddress: MACAddress(UInt64($0)), name: "p\($0)") }

func descReply(xid: UInt32) -> OpenFlowDecodeResult {
    let d = SwitchDescription(manufacturer: "Nicira, Inc.", hardware: "Open vSwitch", software: "3.1", serialNumber: "",
                              datapath: "")
    return ok(.multipartReply(MultipartReply(body: .desc(d))), xid: xid)
}

/// Drives a machine through the handshake; returns it active.
func activeMachine(_ config: SwitchSessionConfiguration = .init()) -> Machine {
    var m = Machine(configuration: config)
    _ = m.channelActive(now: at(0))
    let a1 = m.received(ok(.hello(Hello(versions: [4]))), now: at(1))
    let fx = a1.sent[0].xid
    let a2 = m.received(ok(.featuresReply(FeaturesReply(datapathID: testDPID)), xid: fx), now: at(2))
    let px = a2.sent[0].xid
    let a3 = m.received(ok(.multipartReply(MultipartReply(body: .portDesc(testPorts))), xid: px), now: at(3))
    let dx = a3.sent.last!.xid
    _ = m.received(descReply(xid: dx), now: at(4))
    return m
}

@Suite("Session state machine")
struct StateMachineTests {
    @Test("handshake: HELLO, FEATURES, PORT_DESC, SET_CONFIG, SET_ASYNC, DESC, then active")
    func handshakeOrder() throws {
        var m = Machine()
        let a0 = m.channelActive(now: at(0))
        #expect(a0.sent.map(\.message.type) == [.hello])
        guard case .hello(let h) = a0.sent[0].message else { Issue.record("not a HELLO"); return }
        #expect(h.versions == [4])
        #expect(!m.isActive)

        let a1 = m.received(ok(.hello(Hello(versions: [1, 4, 5]))), now: at(1))
        #expect(a1.sent.map(\.message.type) == [.featuresRequest])

        let a2 = m.received(ok(.featuresReply(FeaturesReply(datapathID: testDPID)), xid: a1.sent[0].xid), now: at(2))
        #expect(a2.sent.map(\.message) == [.multipartRequest(MultipartRequest(body: .portDesc))])

        // Port description in two parts (OFPMPF_REPLY_MORE).
        let px = a2.sent[0].xid
        let a3a = m.received(ok(.multipartReply(MultipartReply(flags: .more, body: .portDesc(Array(testPorts[0..<2])))), xid: px),
                             now: at(3))
        #expect(a3a.sent.isEmpty)
        let a3 = m.received(ok(.multipartReply(MultipartReply(body: .portDesc(Array(testPorts[2...])))), xid: px), now: at(3))
        #expect(a3.sent.map(\.message.type) == [.setConfig, .setAsync, .multipartRequest])
        #expect(a3.sent.last?.message == .multipartRequest(MultipartRequest(body: .desc)))
        #expect(!m.isActive)

        let a4 = m.received(descReply(xid: a3.sent.last!.xid), now: at(4))
        let info = try #require(a4.activeInfo)
        #expect(info.datapathID == testDPID)
        #expect(info.ports.count == 4)
        #expect(m.isActive)
        // xids are distinct
        let xids = (a0 + a1 + a2 + a3).sent.map(\.xid)
        #expect(Set(xids).count == xids.count)
    }

    @Test("a HELLO without 1.3 gets HELLO_FAILED and the session closes",
          arguments: [
            (Hello(versions: [1]), UInt8(1)),
            (Hello(versions: [1, 2, 3]), UInt8(3)),
            (Hello(versions: [5, 6]), UInt8(6)),
            (Hello(), UInt8(1)), // no bitmap, version 1.0 header
          ])
    func versionNegotiationFails(hello: Hello, version: UInt8) throws {
        var m = Machine()
        _ = m.channelActive(now: at(0))
        let a = m.received(ok(.hello(hello), xid: 77, version: version), now: at(1))
        let sent = a.sent
        #expect(sent.count == 1)
        guard case .error(let e) = sent.first?.message else { Issue.record("no ERROR: \(a)"); return }
        #expect(e.kind == .helloFailedIncompatible)
        #expect(sent[0].xid == 77)
        #expect(a.closeReason?.contains("version negotiation failed") == true)
        #expect(m.isClosed)
    }

    @Test("a HELLO without a bitmap from a later version agrees on 1.3")
    func helloWithoutBitmap() {
        var m = Machine()
        _ = m.channelActive(now: at(0))
        let a = m.received(ok(.hello(Hello()), version: 5), now: at(1))
        #expect(a.sent.map(\.message.type) == [.featuresRequest])
    }

    @Test("echo keepalive: requests every interval; the miss limit closes; any message resets")
    func echoMissLimit() {
        var m = activeMachine(.init(echoInterval: .seconds(1), echoMissLimit: 2))
        #expect(m.tick(now: at(500)).sent.isEmpty)          // before the first interval
        let e1 = m.tick(now: at(1000)).sent
        #expect(e1.map(\.message.type) == [.echoRequest])
        // The reply resets the count.
        _ = m.received(ok(.echoReply(ByteBuffer()), xid: e1[0].xid), now: at(1100))
        #expect(m.tick(now: at(2000)).sent.map(\.message.type) == [.echoRequest])   // 1 outstanding
        #expect(m.tick(now: at(3000)).sent.map(\.message.type) == [.echoRequest])   // 2 outstanding
        let close = m.tick(now: at(4000))
        #expect(close.closeReason?.contains("echo requests unanswered") == true)
        #expect(m.isClosed)
    }

    @Test("echo requests from the switch are answered with the same xid and data")
    func echoReply() {
        var m = activeMachine()
        var data = ByteBuffer()
        data.writeString("ping")
        let a = m.received(ok(.echoRequest(data), xid: 4242), now: at(10))
        #expect(a.sent == [OpenFlowEnvelope(xid: 4242, message: .echoReply(data))])
    }

    @Test("a handshake that stalls is closed at the deadline")
    func handshakeTimeout() {
        var m = Machine(configuration: .init(handshakeTimeout: .seconds(3)))
        _ = m.channelActive(now: at(0))
        _ = m.received(ok(.hello(Hello(versions: [4]))), now: at(1))
        #expect(m.tick(now: at(2000)).closeReason == nil)
        #expect(m.tick(now: at(3001)).closeReason?.contains("FEATURES_REPLY") == true)
    }

    @Test("a batch is confirmed only by its barrier reply")
    func barrierConfirms() throws {
        var m = activeMachine()
        let mods: [OpenFlowMessage] = (0..<3).map { .flowMod(FlowMod(cookie: UInt64($0), priority: 10)) }
        let (id, actions) = m.submit(mods, now: at(100))
        let sent = actions.sent
        #expect(sent.map(\.message.type) == [.flowMod, .flowMod, .flowMod, .barrierRequest])
        #expect(m.pendingBatchCount == 1)
        // Another message with the barrier's xid type but a different xid confirms nothing.
        #expect(m.received(ok(.barrierReply, xid: sent[3].xid &+ 100), now: at(150)).isEmpty)
        let done = m.received(ok(.barrierReply, xid: sent[3].xid), now: at(200))
        guard case .batchConfirmed(let r) = done.first else { Issue.record("not confirmed: \(done)"); return }
        #expect(r.id == id)
        #expect(r.messageCount == 3)
        #expect(r.succeeded)
        #expect(r.confirmed == at(200))
        #expect(m.pendingBatchCount == 0)
    }

    @Test("batches submitted during the handshake go out once active")
    func queuedBeforeActive() {
        var m = Machine()
        _ = m.channelActive(now: at(0))
        let (_, a) = m.submit([.flowMod(FlowMod())], now: at(0))
        #expect(a.isEmpty)
        let a1 = m.received(ok(.hello(Hello(versions: [4]))), now: at(1))
        let a2 = m.received(ok(.featuresReply(FeaturesReply(datapathID: 1)), xid: a1.sent[0].xid), now: at(2))
        let a3 = m.received(ok(.multipartReply(MultipartReply(body: .portDesc([]))), xid: a2.sent[0].xid), now: at(3))
        let a4 = m.received(descReply(xid: a3.sent.last!.xid), now: at(4))
        #expect(a4.sent.map(\.message.type) == [.flowMod, .barrierRequest])
    }

    @Test("an ERROR with a batch's xid is reported against that request")
    func errorTiedToRequest() throws {
        var m = activeMachine()
        let mods: [OpenFlowMessage] = [
            .flowMod(FlowMod(cookie: 1)),
            .groupMod(GroupMod(command: .add, type: .select, groupID: 7)),
            .flowMod(FlowMod(cookie: 3)),
        ]
        let (id, actions) = m.submit(mods, now: at(100))
        let sent = actions.sent
        let bad = sent[1].xid
        let err = ErrorMessage(kind: OpenFlowErrorKind(type: .groupModFailed, code: 0))
        let a = m.received(ok(.error(err), xid: bad), now: at(110))
        guard case .requestFailed(let f) = a.first else { Issue.record("not tied: \(a)"); return }
        #expect(f.batch == id)
        #expect(f.xid == bad)
        #expect(f.request == mods[1])
        #expect(f.error == err)
        #expect(f.description.contains("group_id=7"))
        let done = m.received(ok(.barrierReply, xid: sent[3].xid), now: at(120))
        guard case .batchConfirmed(let r) = done.first else { Issue.record("not confirmed"); return }
        #expect(r.failures == [f])
        #expect(!r.succeeded)

        // An ERROR naming no request of ours is reported as such.
        let other = m.received(ok(.error(err), xid: 999_999), now: at(130))
        #expect(other == [.switchError(err, xid: 999_999)])
    }

    @Test("a later barrier reply confirms earlier batches too (barriers are answered in order)")
    func barrierOrder() {
        var m = activeMachine()
        let (id1, a1) = m.submit([.flowMod(FlowMod())], now: at(1))
        let (id2, a2) = m.submit([.flowMod(FlowMod())], now: at(2))
        _ = a1
        let done = m.received(ok(.barrierReply, xid: a2.sent.last!.xid), now: at(3))
        let ids = done.compactMap { a -> BatchID? in
            if case .batchConfirmed(let r) = a { return r.id }
            return nil
        }
        #expect(ids == [id1, id2])
    }

    @Test("a malformed body while active is answered with an ERROR carrying its xid; the session goes on")
    func malformedActive() {
        var m = activeMachine()
        var e = OpenFlowError(.truncated, "flow_stats body", xid: 55, messageType: .multipartReply)
        e.offendingMessage = ByteBuffer(bytes: [4, 19, 0, 12, 0, 0, 0, 55, 0, 1, 0, 0])
        let a = m.received(.failure(e), now: at(10))
        guard case .error(let em) = a.sent.first?.message else { Issue.record("no ERROR: \(a)"); return }
        #expect(em.kind == .badRequestBadLen)
        #expect(em.data == e.offendingMessage) // OF 1.3.5 §7.4.4: the start of the failed message
        #expect(a.sent[0].xid == 55)
        #expect(a.closeReason == nil)
        #expect(m.isActive)
        // Unknown message types: BAD_TYPE.
        let u = m.received(ok(.unknown(type: OpenFlowMessageType(99), body: ByteBuffer()), xid: 56), now: at(11))
        guard case .error(let ue) = u.sent.first?.message else { Issue.record("no ERROR: \(u)"); return }
        #expect(ue.kind == .badRequestBadType)
        #expect(m.isActive)
    }

    @Test("a controller-to-switch message from a switch gets BAD_TYPE; the session stays active")
    func wrongDirection() {
        var m = activeMachine()
        let a = m.received(ok(.flowMod(FlowMod()), xid: 31), now: at(10))
        guard case .error(let e) = a.sent.first?.message else { Issue.record("no ERROR: \(a)"); return }
        #expect(e.kind == .badRequestBadType)
        #expect(a.sent[0].xid == 31)
        #expect(a.closeReason == nil)
        #expect(m.isActive)
        // And the session still works.
        let (_, w) = m.submit([.flowMod(FlowMod())], now: at(11))
        #expect(w.sent.count == 2)
    }

    @Test("too many malformed messages close the session; during the handshake one is enough")
    func malformedLimit() {
        var m = activeMachine(.init(malformedLimit: 2))
        let e = OpenFlowError(.badLength, "x", xid: 1, messageType: .portStatus)
        #expect(m.received(.failure(e), now: at(1)).closeReason == nil)
        #expect(m.received(.failure(e), now: at(2)).closeReason == nil)
        #expect(m.received(.failure(e), now: at(3)).closeReason?.contains("limit 2") == true)
        #expect(m.isClosed)

        var h = Machine()
        _ = h.channelActive(now: at(0))
        let a = h.received(.failure(e), now: at(1))
        #expect(a.closeReason?.contains("malformed") == true)
        #expect(h.isClosed)
    }

    @Test("an ERROR that fails to decode is not answered with an ERROR")
    func noErrorForError() {
        var m = activeMachine()
        let a = m.received(.failure(OpenFlowError(.truncated, "error body", xid: 9, messageType: .error)), now: at(1))
        #expect(a.sent.isEmpty)
    }

    @Test("a message of another version after 1.3 was agreed: BAD_VERSION, then closed")
    func versionChangeCloses() {
        var m = activeMachine()
        var e = OpenFlowError(.unsupportedVersion, "version 6 is not OpenFlow 1.3", xid: 77, messageType: .echoRequest)
        e.offendingMessage = ByteBuffer(bytes: [6, 2, 0, 8, 0, 0, 0, 77])
        let a = m.received(.failure(e), now: at(1))
        guard case .error(let em) = a.sent.first?.message else { Issue.record("no ERROR: \(a)"); return }
        #expect(em.kind == .badRequestBadVersion)
        #expect(a.sent[0].xid == 77)
        #expect(a.closeReason?.contains("version") == true)
        #expect(m.isClosed)
        #expect(m.closeCategory == .version)
    }

    @Test("a multipart reply that never ends is bounded: the session closes at the limit")
    func endlessMultipartBounded() throws {
        let table = ProactiveFabric(topology: try leafSpine()).desiredState()[11]!
        var m = activeMachine(.init(multipartLimit: 100))
        let reads = m.reconcile(with: table).sent
        let part = MultipartReply(flags: .more, body: .flow(Array(repeating: stats(table.flows.values.first!), count: 7)))
        var closedAt: Int?
        for i in 1...1000 where closedAt == nil {
            if m.received(ok(.multipartReply(part), xid: reads[0].xid), now: at(Int64(i))).closeReason != nil { closedAt = i }
        }
        // 7 entries and one part each: past 100 at the 13th part.
        #expect(closedAt == 13)
        #expect(m.isClosed)
        #expect(m.closeCategory == .limit)

        // PORT_DESC parts with nothing in them, forever, during the handshake.
        var h = Machine(configuration: .init(multipartLimit: 50))
        _ = h.channelActive(now: at(0))
        let fx = h.received(ok(.hello(Hello(versions: [4]))), now: at(1)).sent[0].xid
        let px = h.received(ok(.featuresReply(FeaturesReply(datapathID: testDPID)), xid: fx), now: at(2)).sent[0].xid
        var n = 0
        while !h.isClosed && n < 1000 {
            n += 1
            _ = h.received(ok(.multipartReply(MultipartReply(flags: .more, body: .portDesc([]))), xid: px), now: at(3))
        }
        #expect(n == 51)
        #expect(h.closeCategory == .limit)
    }

    @Test("closing fails pending batches")
    func inactiveRejects() {
        var m = activeMachine()
        let (id, _) = m.submit([.flowMod(FlowMod())], now: at(1))
        let a = m.channelInactive()
        #expect(a.contains { if case .batchRejected(id, _) = $0 { return true }; return false })
        let (id2, b) = m.submit([.flowMod(FlowMod())], now: at(2))
        #expect(b.contains { if case .batchRejected(id2, _) = $0 { return true }; return false })
    }
}

@Suite("Endpoints")
struct EndpointTests {
    @Test("listen and connect addresses", arguments: [
        ("6653", "0.0.0.0", 6653),
        ("127.0.0.1:6653", "127.0.0.1", 6653),
        ("tcp:10.0.0.1:6633", "10.0.0.1", 6633),
        ("[::1]:6653", "::1", 6653),
        ("[::]:6654", "::", 6654),
        ("ssl:[fd00::1]:6655", "fd00::1", 6655),
    ])
    func parses(text: String, host: String, port: Int) {
        let e = OpenFlowEndpoint(parsing: text, defaultHost: "0.0.0.0")
        #expect(e == OpenFlowEndpoint(host: host, port: port))
    }

    @Test("bad addresses", arguments: ["", "host", "1.2.3.4:", ":99", "1.2.3.4:70000", "::1:6653", "[::1]6653", "[::1"])
    func refuses(text: String) {
        #expect(OpenFlowEndpoint(parsing: text, defaultHost: "0.0.0.0") == nil)
    }
}
