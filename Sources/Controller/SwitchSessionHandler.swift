// The channel handler of one switch session: it feeds the state machine and carries out its actions
// (write, close, log). It decides nothing. Other code reaches a session through `SwitchSession`,
// which hands batches to the handler as user outbound events, so the handler's state stays on its
// event loop.
import FabricProgramming
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import NIOCore
import NIOSSL
import OpenFlow

/// Something that happened on a session, for whoever runs the controller (logs are written here too).
public enum SessionEvent: Sendable {
    case active(SwitchSession)
    case reconciled(ReconciliationReport)
    case closed(datapathID: UInt64?, reason: String)
    /// PORT_STATUS from an active switch.
    case portStatus(datapathID: UInt64, PortStatus)
    /// FLOW_REMOVED from an active switch.
    case flowRemoved(datapathID: UInt64, FlowRemoved)
}

/// A handle on one live session.
public struct SwitchSession: Sendable {
    public let info: SwitchInfo
    public let channel: any Channel

    /// Writes `messages` as one batch followed by a barrier; completes when the barrier reply came
    /// (with the errors the switch reported for requests of the batch), fails if the connection goes.
    public func submit(_ messages: [OpenFlowMessage]) -> EventLoopFuture<BatchResult> {
        let promise = channel.eventLoop.makePromise(of: BatchResult.self)
        // On a channel that is already closed the handler is gone and would never settle the batch:
        // the event's own failure fails it (whoever waits on a batch always hears back).
        let handed = channel.eventLoop.makePromise(of: Void.self)
        handed.futureResult.whenFailure { promise.fail(SessionClosedError(reason: "session closed: \($0)")) }
        channel.triggerUserOutboundEvent(SwitchSessionHandler.SubmitBatch(messages: messages, promise: promise), promise: handed)
        return promise.futureResult
    }

    public func submit(_ messages: [OpenFlowMessage]) async throws -> BatchResult {
        try await submit(messages).get()
    }

    public func close() { channel.close(promise: nil) }

    /// Reconciles the switch against `table` again (after the fabric changed).
    public func reconcile(_ table: SwitchTable) {
        channel.triggerUserOutboundEvent(SwitchSessionHandler.Reconcile(table: table), promise: nil)
    }
}

/// Why a batch was not confirmed.
public struct SessionClosedError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "switch session closed: \(reason)" }
}

public final class SwitchSessionHandler: ChannelDuplexHandler {
    public typealias InboundIn = OpenFlowDecodeResult
    public typealias OutboundIn = OpenFlowEnvelope
    public typealias OutboundOut = OpenFlowEnvelope

    /// A new desired table to reconcile against (a user outbound event, see `SwitchSession.reconcile`).
    public struct Reconcile: Sendable {
        public var table: SwitchTable
    }

    /// A batch to write (a user outbound event, see `SwitchSession.submit`).
    public struct SubmitBatch: Sendable {
        public var messages: [OpenFlowMessage]
        public var promise: EventLoopPromise<BatchResult>?
    }

    public struct Context: Sendable {
        public var configuration: SwitchSessionConfiguration
        /// The desired table of a datapath (nil: not Tusk's to program).
        public var desired: @Sendable (UInt64) -> SwitchTable?
        public var onEvent: @Sendable (SessionEvent) -> Void
        public var logger: Logger

        public init(configuration: SwitchSessionConfiguration = .init(),
                    desired: @escaping @Sendable (UInt64) -> SwitchTable? = { _ in nil },
                    onEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in },
                    logger: Logger) {
            self.configuration = configuration
            self.desired = desired
            self.onEvent = onEvent
            self.logger = logger
        }
    }

    private var machine: SwitchSessionStateMachine
    private let settings: Context
    private var logger: Logger
    private var promises: [BatchID: EventLoopPromise<BatchResult>] = [:]
    private var timer: RepeatedTask?
    /// Why the session ends and of which kind: set once, by whatever closed it first, and logged once
    /// (in `channelInactive`), whatever else fails after.
    private var closeReason: String?
    private var closeCategory: SessionCloseCategory?
    /// The switch's datapath id once the handshake is done. Kept here because the machine forgets its
    /// `switchInfo` when it closes, and the close event must still say which switch went (the session
    /// registries of the fabric keeper and the elephant loop drop it by this id).
    private var datapathID: UInt64?
    /// PORT_STATUS messages seen: logged one by one up to `portStatusLogged`, then at powers of two,
    /// so that a switch flooding them cannot flood the log.
    private var portStatusCount = 0
    private static let portStatusLogged = 16
    /// Per-switch metrics (label: the datapath id, a bounded set), known once the handshake is done.
    private var metrics = SessionMetrics(dpid: "unknown")

    struct SessionMetrics {
        let flowMods: Counter
        let batches: Counter
        let portStatus: Counter
        let failures: Counter
        let malformed: Counter
        let reconciliations: Counter
        init(dpid: String) {
            let d = [("dpid", dpid)]
            flowMods = Counter(label: "tusk_openflow_flow_mods_total", dimensions: d)
            batches = Counter(label: "tusk_openflow_batches_confirmed_total", dimensions: d)
            portStatus = Counter(label: "tusk_openflow_port_status_total", dimensions: d)
            failures = Counter(label: "tusk_openflow_request_failures_total", dimensions: d)
            malformed = Counter(label: "tusk_openflow_malformed_total", dimensions: d)
            reconciliations = Counter(label: "tusk_openflow_reconciliations_total", dimensions: d)
        }
    }

    public init(_ settings: Context) {
        self.settings = settings
        machine = SwitchSessionStateMachine(configuration: settings.configuration)
        logger = settings.logger
    }

    private var tickInterval: TimeAmount {
        min(settings.configuration.echoInterval, .seconds(1))
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if let peer = context.channel.remoteAddress { logger[metadataKey: "peer"] = "\(peer)" }
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        if let peer = context.channel.remoteAddress { logger[metadataKey: "peer"] = "\(peer)" }
        logger.info("switch connected")
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            let (handler, ctx) = bound.value
            handler.perform(handler.machine.tick(now: .now()), context: ctx)
        }
        perform(machine.channelActive(now: .now()), context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        perform(machine.channelInactive(), context: context)
        let reason = closeReason ?? "connection closed by the switch"
        let category = closeCategory ?? .peer
        for (_, p) in promises { p.fail(SessionClosedError(reason: reason)) }
        promises = [:]
        // The one line for the end of a session, with its reason (nothing else logs a close).
        Counter(label: "tusk_openflow_sessions_closed_total", dimensions: [("reason", category.rawValue)]).increment()
        let meta: Logger.Metadata = ["reason": "\(reason)", "category": "\(category.rawValue)"]
        if category == .peer {
            logger.info("switch disconnected", metadata: meta)
        } else {
            logger.warning("switch session closed", metadata: meta)
        }
        settings.onEvent(.closed(datapathID: datapathID, reason: reason))
        context.fireChannelInactive()
    }

    /// Backpressure: while the socket cannot take more (a switch that does not read what Tusk writes,
    /// such as the replies to a flood of echo requests), the switch is not read either, so that what
    /// is buffered for it stays bounded. A switch that never reads again misses its echo replies and
    /// is closed by the keepalive.
    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    /// Records the first reason the session ends for (later ones are consequences).
    private func closing(_ reason: String, _ category: SessionCloseCategory) {
        guard closeReason == nil else { return }
        closeReason = reason
        closeCategory = category
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(machine.received(unwrapInboundIn(data), now: .now()), context: context)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Framing errors (a length the stream cannot recover from), TLS failures, socket errors:
        // this session ends; no other session is affected.
        if let e = error as? OpenFlowError {
            closing("unrecoverable framing error: \(e)", .framing)
        } else if error is NIOSSLError || error is BoringSSLError {
            closing("TLS: \(error)", .tls)
        } else if let e = error as? IOError, e.errnoCode == ECONNRESET || e.errnoCode == EPIPE {
            closing("connection reset by the switch", .peer)
        } else {
            closing("\(error)", .other)
        }
        context.close(promise: nil)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let r = event as? Reconcile {
            logger.info("reconciling after a fabric change", metadata: ["switch": "\(r.table.name)"])
            perform(machine.reconcile(with: r.table), context: context)
            promise?.succeed(())
            return
        }
        guard let submit = event as? SubmitBatch else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        let (id, actions) = machine.submit(submit.messages, now: .now())
        if let p = submit.promise { promises[id] = p }
        perform(actions, context: context)
        promise?.succeed(())
    }

    private func perform(_ actions: [SwitchSessionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions { perform(action, context: context) }
    }

    private func perform(_ action: SwitchSessionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let envelopes):
            guard !envelopes.isEmpty else { return }
            var flowMods = 0
            for e in envelopes {
                if case .flowMod = e.message { flowMods += 1 }
                context.write(wrapOutboundOut(e), promise: nil)
            }
            context.flush()
            if flowMods > 0 { metrics.flowMods.increment(by: flowMods) }

        case .sendAndClose(let envelopes, let reason):
            closing(reason, machine.closeCategory ?? .other)
            // A close discards pending writes: close once the ERROR has been written.
            let written = context.eventLoop.makePromise(of: Void.self)
            if envelopes.isEmpty { written.succeed(()) }
            for (i, e) in envelopes.enumerated() {
                context.write(wrapOutboundOut(e), promise: i == envelopes.count - 1 ? written : nil)
            }
            context.flush()
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in bound.value.close(promise: nil) }

        case .close(let reason):
            closing(reason, machine.closeCategory ?? .other)
            context.close(promise: nil)

        case .handshake(let stage):
            logger.debug("handshake", metadata: ["stage": "\(stage.rawValue)"])

        case .active(let info):
            logger[metadataKey: "dpid"] = "\(info.dpidHex)"
            datapathID = info.datapathID
            metrics = SessionMetrics(dpid: info.dpidHex)
            let d = info.description
            logger.info("switch active", metadata: [
                "ports": "\(info.ports.count)", "tables": "\(info.features.nTables)",
                "software": "\(d.map { "\($0.manufacturer) \($0.software)" } ?? "?")",
            ])
            settings.onEvent(.active(SwitchSession(info: info, channel: context.channel)))
            if let table = settings.desired(info.datapathID) {
                logger.info("reconciling", metadata: ["switch": "\(table.name)", "desiredFlows": "\(table.flows.count)",
                                                      "desiredGroups": "\(table.groups.count)"])
                perform(machine.reconcile(with: table), context: context)
            } else {
                logger.notice("datapath id not in the topology; nothing to program")
            }

        case .batchConfirmed(let result):
            let ms = Double(result.confirmed.uptimeNanoseconds &- result.submitted.uptimeNanoseconds) / 1e6
            logger.debug("batch confirmed", metadata: [
                "batch": "\(result.id)", "messages": "\(result.messageCount)", "failures": "\(result.failures.count)",
                "ms": "\(ms)",
            ])
            metrics.batches.increment()
            promises.removeValue(forKey: result.id)?.succeed(result)

        case .batchRejected(let id, let reason):
            promises.removeValue(forKey: id)?.fail(SessionClosedError(reason: reason))

        case .requestFailed(let f):
            metrics.failures.increment()
            logger.warning("switch refused a request", metadata: ["request": "\(f)"])

        case .switchError(let e, let xid):
            logger.warning("switch reported an error", metadata: ["xid": "\(xid)", "error": "\(e.kind)"])

        case .malformed(let why):
            metrics.malformed.increment()
            logger.warning("\(why)")

        case .portStatus(let p):
            portStatusCount += 1
            metrics.portStatus.increment()
            if portStatusCount <= Self.portStatusLogged || portStatusCount & (portStatusCount - 1) == 0 {
                logger.info("port status", metadata: ["port": "\(p.port.portNumber)", "reason": "\(p.reason.rawValue)",
                                                       "state": "\(p.port.state)", "config": "\(p.port.config)",
                                                       "portStatusSoFar": "\(portStatusCount)"])
            }
            if let d = machine.switchInfo?.datapathID { settings.onEvent(.portStatus(datapathID: d, p)) }

        case .flowRemoved(let f):
            logger.debug("flow removed", metadata: ["cookie": "0x\(String(f.cookie, radix: 16))", "reason": "\(f.reason.rawValue)"])
            if let d = machine.switchInfo?.datapathID { settings.onEvent(.flowRemoved(datapathID: d, f)) }

        case .reconciliationPlanned(let plan):
            logger.info("reconciliation plan", metadata: [
                "addFlows": "\(plan.flowAdds.count)", "deleteFlows": "\(plan.flowDeletes.count)",
                "keepFlows": "\(plan.untouchedFlows)", "addGroups": "\(plan.groupAdds.count)",
                "modifyGroups": "\(plan.groupModifies.count)", "deleteGroups": "\(plan.groupDeletes.count)",
                "keepGroups": "\(plan.untouchedGroups)", "foreignFlows": "\(plan.foreignFlows)",
            ])

        case .reconciled(let r):
            let meta: Logger.Metadata = [
                "flowsAdded": "\(r.flowsAdded)", "flowsDeleted": "\(r.flowsDeleted)", "flowsUntouched": "\(r.flowsUntouched)",
                "groupsAdded": "\(r.groupsAdded)", "groupsModified": "\(r.groupsModified)",
                "groupsDeleted": "\(r.groupsDeleted)", "groupsUntouched": "\(r.groupsUntouched)",
                "failures": "\(r.failures.count)",
            ]
            if r.failures.isEmpty {
                logger.info("reconciled: switch programmed and barrier-confirmed", metadata: meta)
            } else {
                logger.error("reconciled with failures", metadata: meta)
            }
            metrics.reconciliations.increment()
            settings.onEvent(.reconciled(r))
        }
    }
}
