// One switch's OpenFlow 1.3 session as a pure state machine (the NIOSOCKS ClientStateMachine habit):
// events go in (bytes decoded to messages, a timer tick, a batch to write), `Action`s come out, and
// the channel handler only carries them out. Time is injected (`now`), so every step is testable.
//
// Handshake (OF 1.3.5 §6.3.1, §7.3.1, §7.3.5.13, §7.3.2, §7.3.10, §7.3.5.1):
//
//   channelActive ──HELLO(bitmap {1.3})──▶ awaitingHello
//   HELLO (1.3 in its bitmap, or version ≥ 4 without one) ──FEATURES_REQUEST──▶ awaitingFeatures
//   HELLO without 1.3 ──ERROR HELLO_FAILED/INCOMPATIBLE──▶ closed
//   FEATURES_REPLY ──MULTIPART PORT_DESC──▶ awaitingPortDescription
//   PORT_DESC reply (last part) ──SET_CONFIG, SET_ASYNC, MULTIPART DESC──▶ awaitingDescription
//   DESC reply ──▶ active (queued batches go out)
//
// Keepalive: every `echoInterval` an ECHO_REQUEST; anything heard from the switch clears the count;
// `echoMissLimit` requests in a row unanswered close the session.
//
// Writes: a batch is its messages with consecutive xids followed by a BARRIER_REQUEST. It is
// confirmed only by that barrier's reply (§6.2: the switch finishes everything before a barrier
// first). An ERROR whose xid falls in a batch is reported against that request.
//
// Reconciliation: read the switch's flows (§7.3.5.2) and groups (§7.3.5.8), diff against the desired
// table by cookie and group id (`ReconciliationPlan`), then apply the plan as barrier-separated batches.
import FabricProgramming
import NIOCore
import OpenFlow

/// Settings of a session.
public struct SwitchSessionConfiguration: Sendable, Hashable {
    public var echoInterval: TimeAmount
    public var echoMissLimit: Int
    public var handshakeTimeout: TimeAmount
    /// `miss_send_len` in SET_CONFIG.
    public var missSendLength: UInt16
    /// Malformed messages tolerated (each answered with an ERROR) before the session is closed.
    public var malformedLimit: Int
    /// What one multipart reply (its parts flagged OFPMPF_REPLY_MORE, OF 1.3.5 §7.3.5) may make the
    /// session hold before its last part: entries (flows, groups, ports), a part without entries
    /// counting as one. A switch that goes past it (a reply that never ends) is closed: what it
    /// would make Tusk hold is bounded, not only how long it may take.
    public var multipartLimit: Int

    public init(echoInterval: TimeAmount = .seconds(5), echoMissLimit: Int = 3, handshakeTimeout: TimeAmount = .seconds(15),
                missSendLength: UInt16 = 128, malformedLimit: Int = 32, multipartLimit: Int = 1 << 18) {
        self.echoInterval = echoInterval
        self.echoMissLimit = max(1, echoMissLimit)
        self.handshakeTimeout = handshakeTimeout
        self.missSendLength = missSendLength
        self.malformedLimit = max(0, malformedLimit)
        self.multipartLimit = max(1, multipartLimit)
    }
}

/// Why a session ended, as a bounded set (a metric label; the log line carries the full reason).
public enum SessionCloseCategory: String, Sendable, Hashable, CaseIterable {
    /// The handshake failed: no HELLO, no common version, a refused request, or too slow.
    case handshake
    /// The switch stopped answering echo requests.
    case keepalive
    /// Too many malformed messages (or one during the handshake).
    case malformed
    /// A header length no stream can be framed past, or the connection ended inside a message.
    case framing
    /// A message of another OpenFlow version after 1.3 was agreed.
    case version
    /// The switch made Tusk hold more than a limit allows (a multipart reply that never ends).
    case limit
    /// The TLS handshake or record layer failed (certificate refused, not TLS at all).
    case tls
    /// The switch closed the connection.
    case peer
    /// A socket error, or Tusk closed the session itself (shutdown).
    case other
}

/// What the handshake learned about a switch.
public struct SwitchInfo: Hashable, Sendable {
    public var datapathID: UInt64
    public var features: FeaturesReply
    public var ports: [SwitchPort]
    public var description: SwitchDescription?
    /// 16 hex digits, as Open vSwitch prints a datapath id.
    public var dpidHex: String { Self.hex(datapathID) }

    /// `dpid` in 16 hex digits, as Open vSwitch prints a datapath id.
    public static func hex(_ dpid: UInt64) -> String {
        let s = String(dpid, radix: 16)
        return String(repeating: "0", count: Swift.max(0, 16 - s.count)) + s
    }
}

/// Identifies one batch of writes.
public struct BatchID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "batch#\(rawValue)" }
}

/// An ERROR from the switch tied back to the request (xid) that caused it.
public struct RequestFailure: Hashable, Sendable, CustomStringConvertible {
    public var batch: BatchID?
    public var xid: UInt32
    /// The request as it was sent, when the xid is one of ours.
    public var request: OpenFlowMessage?
    public var error: ErrorMessage

    public var description: String {
        var s = "xid \(xid)"
        if let batch { s += " (\(batch))" }
        if let request {
            s += " \(request.type)"
            if case .flowMod(let f) = request { s += " cookie=0x\(String(f.cookie, radix: 16))" }
            if case .groupMod(let g) = request { s += " group_id=\(g.groupID)" }
        }
        return s + ": \(error.kind)"
    }
}

/// The outcome of one batch, once its barrier reply came.
public struct BatchResult: Hashable, Sendable {
    public var id: BatchID
    public var messageCount: Int
    public var failures: [RequestFailure]
    public var submitted: NIODeadline
    public var confirmed: NIODeadline
    public var succeeded: Bool { failures.isEmpty }
}

/// What reconciliation found and did on one switch.
public struct ReconciliationReport: Hashable, Sendable {
    public var datapathID: UInt64
    public var switchFlows: Int
    public var switchGroups: Int
    public var flowsAdded: Int
    public var flowsDeleted: Int
    public var flowsUntouched: Int
    public var foreignFlows: Int
    public var groupsAdded: Int
    public var groupsModified: Int
    public var groupsDeleted: Int
    public var groupsUntouched: Int
    public var failures: [RequestFailure]
    /// The entries the switch held that the fabric does not own (elephant placements among them),
    /// as read before reconciliation: what the elephant loop adopts or cleans up.
    public var heldFlows: [FlowStats] = []
}

/// Handshake stages, for logs.
public enum HandshakeStage: String, Sendable, Hashable {
    case helloSent = "HELLO sent"
    case helloReceived = "HELLO received, OpenFlow 1.3 agreed; FEATURES_REQUEST sent"
    case featuresReceived = "FEATURES_REPLY received; PORT_DESC requested"
    case portsReceived = "PORT_DESC received; SET_CONFIG, SET_ASYNC sent, DESC requested"
}

public struct SwitchSessionStateMachine {
    public enum Action: Sendable, Hashable {
        /// Write these messages and flush.
        case send([OpenFlowEnvelope])
        /// Write these messages (an ERROR or HELLO_FAILED, say), then close the connection.
        case sendAndClose([OpenFlowEnvelope], reason: String)
        /// Close the connection; `reason` is logged.
        case close(reason: String)
        case handshake(HandshakeStage)
        /// The handshake finished: the session is active.
        case active(SwitchInfo)
        case batchConfirmed(BatchResult)
        /// A batch was submitted on a session that is closed.
        case batchRejected(BatchID, reason: String)
        /// An ERROR tied to a request of ours.
        case requestFailed(RequestFailure)
        /// An ERROR that names no request of ours.
        case switchError(ErrorMessage, xid: UInt32)
        /// A malformed or unexpected message from the switch, answered with an ERROR; logged.
        case malformed(String)
        case portStatus(PortStatus)
        /// An entry left a table (OF 1.3.5 §7.4.2): timed out, or deleted.
        case flowRemoved(FlowRemoved)
        case reconciliationPlanned(ReconciliationPlan)
        case reconciled(ReconciliationReport)
    }

    private struct Handshake {
        var started: NIODeadline
        var xid: UInt32
        var features: FeaturesReply?
        var ports: [SwitchPort] = []
        /// PORT_DESC reply parts received.
        var parts = 0
    }

    private enum Purpose {
        case user
        case reconciliation
    }

    private struct PendingBatch {
        var id: BatchID
        var firstXID: UInt32
        var messages: [OpenFlowMessage]
        var barrierXID: UInt32
        var purpose: Purpose
        var submitted: NIODeadline
        var failures: [RequestFailure] = []
        func contains(_ xid: UInt32) -> Bool { Int(xid &- firstXID) < messages.count }
    }

    private enum Reconciliation {
        case idle
        case reading(desired: SwitchTable, flowXID: UInt32, groupXID: UInt32,
                     flows: [FlowStats], flowsDone: Bool, groups: [GroupDescription], groupsDone: Bool)
        case applying(report: ReconciliationReport, remaining: Set<BatchID>)
    }

    private struct Active {
        var info: SwitchInfo
        var pending: [PendingBatch] = []
        var reconciliation: Reconciliation = .idle
        /// A newer desired table that arrived while a reconciliation was running: reconciled next.
        var again: SwitchTable?
    }

    private enum State {
        case idle
        case awaitingHello(Handshake)
        case awaitingFeatures(Handshake)
        case awaitingPortDescription(Handshake)
        case awaitingDescription(Handshake, info: SwitchInfo)
        case active(Active)
        case closed(reason: String)
        /// Only while an active session's data is being changed in place (so that the state enum
        /// holds no second reference to its arrays, which would make every change copy them).
        case modifying
    }

    public let configuration: SwitchSessionConfiguration
    private var state: State = .idle
    /// Why the machine closed the session (nil while open, or when the connection was closed under it).
    public private(set) var closeCategory: SessionCloseCategory?
    private var nextXID: UInt32 = 1
    private var nextBatch: UInt64 = 1
    private var echoOutstanding = 0
    private var nextEcho: NIODeadline = .uptimeNanoseconds(0)
    private var malformedCount = 0
    /// Parts of the current reconciliation read received so far.
    private var readParts = 0
    /// Batches submitted before the handshake finished; sent once active.
    private var queued: [(BatchID, [OpenFlowMessage], NIODeadline)] = []

    public init(configuration: SwitchSessionConfiguration = .init()) {
        self.configuration = configuration
    }

    // MARK: Introspection

    public var isActive: Bool {
        switch state {
        case .active: true
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .closed, .modifying: false
        }
    }

    public var isClosed: Bool {
        switch state {
        case .closed: true
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .active, .modifying: false
        }
    }

    public var switchInfo: SwitchInfo? {
        switch state {
        case .active(let a): a.info
        case .awaitingDescription(_, let info): info
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .closed, .modifying: nil
        }
    }

    /// Batches written and not yet confirmed.
    public var pendingBatchCount: Int {
        switch state {
        case .active(let a): a.pending.count
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .closed, .modifying: 0
        }
    }

    public var isReconciling: Bool {
        switch state {
        case .active(let a):
            switch a.reconciliation {
            case .idle: false
            case .reading, .applying: true
            }
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .closed, .modifying: false
        }
    }

    // MARK: Helpers

    private mutating func xid() -> UInt32 {
        let x = nextXID
        nextXID = nextXID &+ 1
        if nextXID == 0 { nextXID = 1 }
        return x
    }

    private func envelope(_ m: OpenFlowMessage, xid: UInt32) -> OpenFlowEnvelope {
        OpenFlowEnvelope(version: openFlow13Version, xid: xid, message: m)
    }

    private mutating func close(_ reason: String, _ category: SessionCloseCategory) -> Action {
        state = .closed(reason: reason)
        closeCategory = category
        return .close(reason: reason)
    }

    // MARK: Events

    /// The connection is up: say HELLO (OF 1.3.5 §6.3.1: both sides send HELLO at once).
    public mutating func channelActive(now: NIODeadline) -> [Action] {
        switch state {
        case .idle:
            let h = Handshake(started: now, xid: 0)
            state = .awaitingHello(h)
            nextEcho = now + configuration.echoInterval
            return [.send([envelope(.hello(Hello(versions: [openFlow13Version])), xid: xid())]), .handshake(.helloSent)]
        case .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .active, .closed, .modifying:
            return []
        }
    }

    /// The connection is gone: pending batches will never be confirmed.
    public mutating func channelInactive() -> [Action] {
        var actions: [Action] = []
        switch state {
        case .active(let a):
            for b in a.pending where b.purpose == .user {
                actions.append(.batchRejected(b.id, reason: "connection closed before the barrier reply"))
            }
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .closed, .modifying:
            break
        }
        for q in queued { actions.append(.batchRejected(q.0, reason: "connection closed before the handshake finished")) }
        queued = []
        switch state {
        case .closed: break
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .active, .modifying:
            state = .closed(reason: "connection closed")
        }
        return actions
    }

    /// Timer: handshake deadline and echo keepalive.
    public mutating func tick(now: NIODeadline) -> [Action] {
        switch state {
        case .idle, .closed, .modifying:
            return []
        case .awaitingHello(let h), .awaitingFeatures(let h), .awaitingPortDescription(let h), .awaitingDescription(let h, _):
            if now - h.started >= configuration.handshakeTimeout {
                return [close("handshake did not finish within \(configuration.handshakeTimeout.nanoseconds / 1_000_000) ms (\(stageName))", .handshake)]
            }
            return keepalive(now: now)
        case .active:
            return keepalive(now: now)
        }
    }

    private var stageName: String {
        switch state {
        case .idle: "idle"
        case .awaitingHello: "waiting for HELLO"
        case .awaitingFeatures: "waiting for FEATURES_REPLY"
        case .awaitingPortDescription: "waiting for PORT_DESC reply"
        case .awaitingDescription: "waiting for DESC reply"
        case .active: "active"
        case .closed: "closed"
        case .modifying: "active"
        }
    }

    private mutating func keepalive(now: NIODeadline) -> [Action] {
        guard now >= nextEcho else { return [] }
        if echoOutstanding >= configuration.echoMissLimit {
            return [close("\(echoOutstanding) echo requests unanswered (interval \(configuration.echoInterval.nanoseconds / 1_000_000) ms, limit \(configuration.echoMissLimit))", .keepalive)]
        }
        echoOutstanding += 1
        nextEcho = now + configuration.echoInterval
        return [.send([envelope(.echoRequest(ByteBuffer()), xid: xid())])]
    }

    /// A message (or a message that failed to decode) from the switch.
    public mutating func received(_ result: OpenFlowDecodeResult, now: NIODeadline) -> [Action] {
        switch state {
        case .idle, .closed, .modifying:
            return []
        case .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .active:
            break
        }
        // Anything heard proves the switch alive.
        echoOutstanding = 0
        switch result {
        case .failure(let e):
            return malformed(e)
        case .success(let env):
            return received(env, now: now)
        }
    }

    private mutating func malformed(_ e: OpenFlowError) -> [Action] {
        if e.code == .unsupportedVersion, isActive {
            // The version agreed in HELLO holds for the whole connection (OF 1.3.5 §6.3.1): a switch that
            // changes it has lost track of the session, and nothing it sends after can be trusted.
            // Answered with BAD_VERSION (OF 1.3.5 §7.4.4.2), then closed.
            let reason = "switch changed OpenFlow version after 1.3 was agreed: \(e)"
            let reply = e.messageType == .error ? [] : [envelope(.error(ErrorMessage(kind: .badRequestBadVersion,
                                                                                    data: e.offendingMessage ?? ByteBuffer())),
                                                                 xid: e.xid ?? 0)]
            state = .closed(reason: reason)
            closeCategory = .version
            return [.sendAndClose(reply, reason: reason)]
        }
        // Never answer an ERROR with an ERROR (OF 1.3.5 §7.5.4: two peers would loop).
        // The ERROR carries the first 64 bytes of the offending message (OF 1.3.5 §7.4.4).
        return refuse(e.messageType == .error ? nil : e.suggestedReply, xid: e.xid ?? 0, why: "\(e)",
               data: e.offendingMessage ?? ByteBuffer())
    }

    /// A message the session cannot accept: answered with an ERROR (when `kind` is set). While active
    /// the session goes on, up to `malformedLimit`; during the handshake the session closes.
    private mutating func refuse(_ kind: OpenFlowErrorKind?, xid: UInt32, why detail: String,
                                 data: ByteBuffer = ByteBuffer()) -> [Action] {
        malformedCount += 1
        let reply = kind.map { [envelope(.error(ErrorMessage(kind: $0, data: data)), xid: xid)] } ?? []
        let why = "malformed message from switch: \(detail)"
        switch state {
        case .active, .modifying:
            if malformedCount > configuration.malformedLimit {
                let reason = "\(why); \(malformedCount) malformed messages, limit \(configuration.malformedLimit)"
                state = .closed(reason: reason)
                closeCategory = .malformed
                return [.sendAndClose(reply, reason: reason)]
            }
            let answered = kind.map { "; answered with ERROR \($0)" } ?? ""
            return (reply.isEmpty ? [] : [.send(reply)]) + [.malformed(why + answered)]
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .closed:
            let reason = why + " (\(stageName))"
            state = .closed(reason: reason)
            closeCategory = .malformed
            return [.sendAndClose(reply, reason: reason)]
        }
    }

    private mutating func received(_ env: OpenFlowEnvelope, now: NIODeadline) -> [Action] {
        // Symmetric messages, whatever the state.
        if case .echoRequest(let data) = env.message {
            return [.send([envelope(.echoReply(data), xid: env.xid)])]
        }
        if case .echoReply = env.message { return [] }
        if case .unknown(let type, _) = env.message {
            // OF 1.3.5 §7.4.4.2: OFPBRC_BAD_TYPE.
            return refuse(.badRequestBadType, xid: env.xid, why: "unknown message type \(type.rawValue)")
        }

        switch state {
        case .idle, .closed, .modifying:
            return []

        case .awaitingHello(var h):
            guard case .hello(let hello) = env.message else {
                return [close("expected HELLO, got \(env.message.type)", .handshake)]
            }
            let agreed: Bool
            if let versions = hello.versions {
                agreed = versions.contains(openFlow13Version)
            } else {
                // No bitmap: the lower of the two header versions is used (§6.3.1).
                agreed = env.version >= openFlow13Version
            }
            guard agreed else {
                let theirs = hello.versions.map { "bitmap \($0)" } ?? "version \(env.version)"
                let why = "version negotiation failed: switch offers \(theirs), Tusk speaks only OpenFlow 1.3 (4)"
                var data = ByteBuffer()
                data.writeString("OpenFlow 1.3 only")
                state = .closed(reason: why)
                closeCategory = .handshake
                return [.sendAndClose([envelope(.error(ErrorMessage(kind: .helloFailedIncompatible, data: data)), xid: env.xid)],
                                      reason: why)]
            }
            h.xid = xid()
            state = .awaitingFeatures(h)
            return [.send([envelope(.featuresRequest, xid: h.xid)]), .handshake(.helloReceived)]

        case .awaitingFeatures(var h):
            if case .featuresReply(let f) = env.message {
                h.features = f
                h.xid = xid()
                state = .awaitingPortDescription(h)
                return [.send([envelope(.multipartRequest(MultipartRequest(body: .portDesc)), xid: h.xid)]),
                        .handshake(.featuresReceived)]
            }
            if case .error(let e) = env.message, env.xid == h.xid {
                return [close("switch refused FEATURES_REQUEST: \(e.kind)", .handshake)]
            }
            return handshakeOther(env)

        case .awaitingPortDescription(var h):
            if case .multipartReply(let r) = env.message, env.xid == h.xid {
                guard case .portDesc(let ports) = r.body else { return [close("expected PORT_DESC reply, got \(r.body.type)", .handshake)] }
                h.ports += ports
                h.parts += 1
                if h.ports.count + h.parts > configuration.multipartLimit {
                    return [close("PORT_DESC reply exceeds the multipart limit (\(h.ports.count) ports in \(h.parts) parts, "
                                  + "limit \(configuration.multipartLimit))", .limit)]
                }
                guard !r.flags.contains(.more) else {
                    state = .awaitingPortDescription(h)
                    return []
                }
                guard let f = h.features else { return [close("PORT_DESC before FEATURES_REPLY", .handshake)] }
                h.xid = xid()
                let info = SwitchInfo(datapathID: f.datapathID, features: f, ports: h.ports, description: nil)
                let everything: UInt32 = 0b111
                let async = AsyncConfig(
                    // No packet-ins: the fabric is proactive.
                    packetInMask: AsyncMask(masterOrEqual: 0, slave: 0),
                    portStatusMask: AsyncMask(masterOrEqual: everything, slave: everything),
                    // Idle/hard timeout, delete, group delete (elephant entries report their end).
                    flowRemovedMask: AsyncMask(masterOrEqual: 0b1111, slave: 0))
                let msgs = [
                    envelope(.setConfig(SwitchConfig(flags: .fragNormal, missSendLength: configuration.missSendLength)), xid: xid()),
                    envelope(.setAsync(async), xid: xid()),
                    envelope(.multipartRequest(MultipartRequest(body: .desc)), xid: h.xid),
                ]
                state = .awaitingDescription(h, info: info)
                return [.send(msgs), .handshake(.portsReceived)]
            }
            if case .error(let e) = env.message, env.xid == h.xid {
                return [close("switch refused PORT_DESC request: \(e.kind)", .handshake)]
            }
            return handshakeOther(env)

        case .awaitingDescription(let h, var info):
            if case .multipartReply(let r) = env.message, env.xid == h.xid {
                guard case .desc(let d) = r.body else { return [close("expected DESC reply, got \(r.body.type)", .handshake)] }
                info.description = d
                state = .active(Active(info: info))
                var actions: [Action] = [.active(info)]
                let q = queued
                queued = []
                for (id, msgs, at) in q { actions += write(id: id, msgs, purpose: .user, now: at) }
                return actions
            }
            if case .error(let e) = env.message, env.xid == h.xid {
                // DESC is informative only; go on without it.
                state = .active(Active(info: info))
                return [.switchError(e, xid: env.xid), .active(info)]
            }
            return handshakeOther(env)

        case .active(var a):
            state = .modifying
            let actions = receivedActive(env, &a, now: now)
            // Unless the message closed the session, it stays active.
            if case .modifying = state { state = .active(a) }
            return actions
        }
    }

    /// During the handshake: port status and errors for SET_CONFIG/SET_ASYNC are reported; anything
    /// else is ignored (a switch may send asynchronous messages at any time, §6.3.1).
    private func handshakeOther(_ env: OpenFlowEnvelope) -> [Action] {
        if case .error(let e) = env.message { return [.switchError(e, xid: env.xid)] }
        if case .portStatus(let p) = env.message { return [.portStatus(p)] }
        return []
    }

    private mutating func receivedActive(_ env: OpenFlowEnvelope, _ a: inout Active, now: NIODeadline) -> [Action] {
        switch env.message {
        case .barrierReply:
            guard let i = a.pending.firstIndex(where: { $0.barrierXID == env.xid }) else { return [] }
            // Barriers are answered in order: this one confirms every batch written before it too.
            let done = Array(a.pending[...i])
            a.pending.removeSubrange(...i)
            var actions: [Action] = []
            for b in done {
                switch b.purpose {
                case .user:
                    actions.append(.batchConfirmed(BatchResult(id: b.id, messageCount: b.messages.count, failures: b.failures,
                                                               submitted: b.submitted, confirmed: now)))
                case .reconciliation:
                    if case .applying(var report, var remaining) = a.reconciliation {
                        remaining.remove(b.id)
                        report.failures += b.failures
                        if remaining.isEmpty {
                            a.reconciliation = .idle
                            actions.append(.reconciled(report))
                            actions += reconcileAgain(&a)
                        } else {
                            a.reconciliation = .applying(report: report, remaining: remaining)
                        }
                    }
                }
            }
            return actions

        case .error(let e):
            if let i = a.pending.firstIndex(where: { $0.contains(env.xid) }) {
                let b = a.pending[i]
                let f = RequestFailure(batch: b.id, xid: env.xid, request: b.messages[Int(env.xid &- b.firstXID)], error: e)
                a.pending[i].failures.append(f)
                return [.requestFailed(f)]
            }
            if case .reading(_, let fx, let gx, _, _, _, _) = a.reconciliation, env.xid == fx || env.xid == gx {
                let why = "switch refused reconciliation read (\(env.xid == fx ? "flow stats" : "group desc")): \(e.kind)"
                a.reconciliation = .idle
                return [.switchError(e, xid: env.xid), .malformed(why)]
            }
            return [.switchError(e, xid: env.xid)]

        case .multipartReply(let r):
            guard case .reading(let desired, let fx, let gx, var flows, var flowsDone, var groups, var groupsDone) = a.reconciliation
            else { return [] }
            guard env.xid == fx || env.xid == gx else { return [] }
            // Drop the state's own references to the arrays first: otherwise every append below copies
            // everything read so far (quadratic in the parts of a large table, or of a reply that never ends).
            a.reconciliation = .idle
            if env.xid == fx, case .flow(let fs) = r.body {
                flows += fs
                flowsDone = !r.flags.contains(.more)
            } else if env.xid == gx, case .groupDesc(let gs) = r.body {
                groups += gs
                groupsDone = !r.flags.contains(.more)
            } else {
                a.reconciliation = .reading(desired: desired, flowXID: fx, groupXID: gx, flows: flows, flowsDone: flowsDone,
                                            groups: groups, groupsDone: groupsDone)
                return []
            }
            let held = flows.count + groups.count
            readParts += 1
            if held + readParts > configuration.multipartLimit {
                // A reply that never ends (OFPMPF_REPLY_MORE forever) would grow without bound.
                let reason = "reconciliation read exceeds the multipart limit (\(flows.count) flows, \(groups.count) groups "
                    + "in \(readParts) parts, limit \(configuration.multipartLimit))"
                state = .closed(reason: reason)
                closeCategory = .limit
                return [.close(reason: reason)]
            }
            guard flowsDone, groupsDone else {
                a.reconciliation = .reading(desired: desired, flowXID: fx, groupXID: gx, flows: flows, flowsDone: flowsDone,
                                            groups: groups, groupsDone: groupsDone)
                return []
            }
            let plan = ReconciliationPlan(desired: desired, flows: flows, groups: groups)
            var report = ReconciliationReport(
                datapathID: a.info.datapathID, switchFlows: flows.count, switchGroups: groups.count,
                flowsAdded: plan.flowAdds.count, flowsDeleted: plan.flowDeletes.count, flowsUntouched: plan.untouchedFlows,
                foreignFlows: plan.foreignFlows, groupsAdded: plan.groupAdds.count, groupsModified: plan.groupModifies.count,
                groupsDeleted: plan.groupDeletes.count, groupsUntouched: plan.untouchedGroups, failures: [],
                heldFlows: flows.filter { !ReconciliationScope.fabric.ownsCookie($0.cookie) })
            var actions: [Action] = [.reconciliationPlanned(plan)]
            let batches = plan.batches
            if batches.isEmpty {
                a.reconciliation = .idle
                actions.append(.reconciled(report))
                return actions + reconcileAgain(&a)
            }
            var ids = Set<BatchID>()
            var sends: [OpenFlowEnvelope] = []
            for msgs in batches {
                let id = BatchID(nextBatch)
                nextBatch += 1
                ids.insert(id)
                sends += enqueue(id: id, msgs, purpose: .reconciliation, now: now, into: &a)
            }
            report.failures = []
            a.reconciliation = .applying(report: report, remaining: ids)
            actions.insert(.send(sends), at: 1)
            return actions

        case .portStatus(let p):
            return [.portStatus(p)]

        case .flowRemoved(let f):
            return [.flowRemoved(f)]

        case .hello, .featuresReply, .getConfigReply, .packetIn, .roleReply, .getAsyncReply,
             .queueGetConfigReply, .experimenter:
            // Replies we did not wait for and asynchronous events the proactive fabric does not use.
            return []

        case .featuresRequest, .getConfigRequest, .setConfig, .packetOut, .flowMod, .groupMod, .portMod, .tableMod,
             .multipartRequest, .barrierRequest, .queueGetConfigRequest, .roleRequest, .getAsyncRequest, .setAsync,
             .meterMod:
            // Controller-to-switch messages have no meaning coming from a switch (OF 1.3.5 §7.4.4.2 BAD_TYPE).
            return refuse(.badRequestBadType, xid: env.xid, why: "\(env.message.type) is a controller-to-switch message")

        case .echoRequest, .echoReply, .unknown:
            return [] // handled above
        }
    }

    // MARK: Writes

    /// Assigns xids to `messages`, appends a barrier and records the batch. Returns what to write.
    private mutating func enqueue(id: BatchID, _ messages: [OpenFlowMessage], purpose: Purpose, now: NIODeadline,
                                  into a: inout Active) -> [OpenFlowEnvelope] {
        var out: [OpenFlowEnvelope] = []
        out.reserveCapacity(messages.count + 1)
        let first = nextXID
        for m in messages { out.append(envelope(m, xid: xid())) }
        // Keep the batch's xids contiguous even across a wrap past 0 (xid 0 is skipped): if the
        // range wrapped, re-number from 1.
        if Int(out.last.map { $0.xid &- first } ?? 0) != max(0, messages.count - 1) {
            nextXID = 1
            out = messages.map { envelope($0, xid: xid()) }
        }
        let firstXID = out.first?.xid ?? nextXID
        let barrier = xid()
        out.append(envelope(.barrierRequest, xid: barrier))
        a.pending.append(PendingBatch(id: id, firstXID: firstXID, messages: messages, barrierXID: barrier, purpose: purpose,
                                      submitted: now))
        return out
    }

    private mutating func write(id: BatchID, _ messages: [OpenFlowMessage], purpose: Purpose, now: NIODeadline) -> [Action] {
        guard case .active(var a) = state else { return [] }
        state = .modifying
        let out = enqueue(id: id, messages, purpose: purpose, now: now, into: &a)
        state = .active(a)
        return [.send(out)]
    }

    /// Writes `messages` as one barrier-confirmed batch. Before the handshake finishes the batch is
    /// queued and written once the session is active.
    public mutating func submit(_ messages: [OpenFlowMessage], now: NIODeadline) -> (BatchID, [Action]) {
        let id = BatchID(nextBatch)
        nextBatch += 1
        switch state {
        case .active:
            return (id, write(id: id, messages, purpose: .user, now: now))
        case .idle, .awaitingHello, .awaitingFeatures, .awaitingPortDescription, .awaitingDescription, .modifying:
            queued.append((id, messages, now))
            return (id, [])
        case .closed(let reason):
            return (id, [.batchRejected(id, reason: "session closed: \(reason)")])
        }
    }

    /// Starts reconciliation against `desired`: reads the switch's flows and groups; the plan and its
    /// batches follow when both replies are complete. While one runs, the newest `desired` waits and is
    /// reconciled right after it (the fabric may change under a reconciliation: a port going down).
    public mutating func reconcile(with desired: SwitchTable) -> [Action] {
        guard case .active(var a) = state else { return [] }
        state = .modifying
        let actions = startReconcile(desired, &a)
        state = .active(a)
        return actions
    }

    private mutating func startReconcile(_ desired: SwitchTable, _ a: inout Active) -> [Action] {
        switch a.reconciliation {
        case .reading, .applying:
            a.again = desired
            return []
        case .idle:
            break
        }
        let fx = xid()
        let gx = xid()
        readParts = 0
        a.reconciliation = .reading(desired: desired, flowXID: fx, groupXID: gx, flows: [], flowsDone: false, groups: [],
                                    groupsDone: false)
        // All tables, any cookie: foreign entries are counted, never touched.
        return [.send([
            envelope(.multipartRequest(MultipartRequest(body: .flow(FlowStatsRequest(tableID: 0xFF)))), xid: fx),
            envelope(.multipartRequest(MultipartRequest(body: .groupDesc)), xid: gx),
        ])]
    }

    private mutating func reconcileAgain(_ a: inout Active) -> [Action] {
        guard let next = a.again else { return [] }
        a.again = nil
        return startReconcile(next, &a)
    }
}
