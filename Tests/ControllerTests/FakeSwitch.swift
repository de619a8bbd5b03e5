// A fake OpenFlow 1.3 switch for loopback tests: a NIO client speaking OpenFlow through the codec,
// with a tiny flow table and group table that flow-mods, group-mods and stats requests act on.
import Controller
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OpenFlow
import Packets
import Synchronization

struct FakeFlow: Hashable, Sendable {
    var tableID: UInt8
    var priority: UInt16
    var cookie: UInt64
    var match: OpenFlowMatch
    var instructions: [OpenFlowInstruction]
    var sameEntry: (UInt8, UInt16, Set<OXMField>) { (tableID, priority, Set(match.fields)) }
}

struct FakeTables: Sendable {
    var flows: [FakeFlow] = []
    var groups: [GroupID: GroupDescription] = [:]
    var flowModCount = 0
    var groupModCount = 0
    var errorsSeen: [ErrorMessage] = []
    var barriers = 0
    /// Flow stats reply parts written by a switch whose reply never ends.
    var endlessParts = 0

    mutating func apply(_ f: FlowMod) {
        flowModCount += 1
        switch f.command {
        case .add:
            let new = FakeFlow(tableID: f.tableID, priority: f.priority, cookie: f.cookie, match: f.match, instructions: f.instructions)
            flows.removeAll { $0.sameEntry == new.sameEntry }
            flows.append(new)
        case .deleteStrict:
            flows.removeAll {
                ($0.tableID == f.tableID || f.tableID == 0xFF) && $0.priority == f.priority
                    && Set($0.match.fields) == Set(f.match.fields) && $0.cookie & f.cookieMask == f.cookie & f.cookieMask
            }
        case .delete:
            flows.removeAll {
                ($0.tableID == f.tableID || f.tableID == 0xFF) && $0.cookie & f.cookieMask == f.cookie & f.cookieMask
                    && Set(f.match.fields).isSubset(of: Set($0.match.fields))
            }
        default:
            break
        }
    }

    /// Returns an error kind when the switch refuses the group-mod.
    mutating func apply(_ g: GroupMod) -> OpenFlowErrorKind? {
        groupModCount += 1
        switch g.command {
        case .add:
            if groups[g.groupID] != nil { return OpenFlowErrorKind(type: .groupModFailed, code: 0) } // GROUP_EXISTS
            groups[g.groupID] = GroupDescription(type: g.type, groupID: g.groupID, buckets: g.buckets)
        case .modify:
            if groups[g.groupID] == nil { return OpenFlowErrorKind(type: .groupModFailed, code: 8) } // UNKNOWN_GROUP
            groups[g.groupID] = GroupDescription(type: g.type, groupID: g.groupID, buckets: g.buckets)
        case .delete:
            groups[g.groupID] = nil
            // Deleting a group deletes the flows that use it (OF 1.3.5 §6.5).
            flows.removeAll { $0.instructions.contains(.applyActions([.group(g.groupID)])) }
        default:
            return OpenFlowErrorKind(type: .groupModFailed, code: 11)
        }
        return nil
    }
}

final class FakeSwitchState: Sendable {
    let dpid: UInt64
    let tables: Mutex<FakeTables>
    init(dpid: UInt64, tables: FakeTables = FakeTables()) {
        self.dpid = dpid
        self.tables = Mutex(tables)
    }
    var snapshot: FakeTables { tables.withLock { $0 } }
}

final class FakeSwitchHandler: ChannelInboundHandler {
    typealias InboundIn = OpenFlowDecodeResult
    typealias OutboundOut = OpenFlowEnvelope
    let state: FakeSwitchState
    let helloVersions: [UInt8]
    /// Answer echo requests (false: a switch that went silent).
    let answersEcho: Bool
    /// Answer a flow stats request with parts flagged OFPMPF_REPLY_MORE, forever (a hostile switch).
    let endlessFlowStats: Bool

    init(state: FakeSwitchState, helloVersions: [UInt8] = [4], answersEcho: Bool = true, endlessFlowStats: Bool = false) {
        self.state = state
        self.helloVersions = helloVersions
        self.answersEcho = answersEcho
        self.endlessFlowStats = endlessFlowStats
    }

    /// Writes one more part of a reply that never ends, then the next once that one is written (on a
    /// fresh stack each time), until the connection is gone.
    private static func writeEndless(_ bound: NIOLoopBound<(FakeSwitchHandler, ChannelHandlerContext)>, xid: UInt32,
                                     part: MultipartReply) {
        let (handler, context) = bound.value
        guard context.channel.isActive else { return }
        handler.state.tables.withLock { $0.endlessParts += 1 }
        context.writeAndFlush(handler.wrapOutboundOut(OpenFlowEnvelope(xid: xid, message: .multipartReply(part)))).whenSuccess {
            bound.value.1.eventLoop.execute { writeEndless(bound, xid: xid, part: part) }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(OpenFlowEnvelope(xid: 1, message: .hello(Hello(versions: helloVersions)))),
                              promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .success(let env) = unwrapInboundIn(data) else { return }
        func reply(_ m: OpenFlowMessage) { context.write(wrapOutboundOut(OpenFlowEnvelope(xid: env.xid, message: m)), promise: nil) }
        switch env.message {
        case .featuresRequest:
            reply(.featuresReply(FeaturesReply(datapathID: state.dpid, nTables: 254)))
        case .multipartRequest(let r):
            switch r.body {
            case .portDesc:
                reply(.multipartReply(MultipartReply(body: .portDesc((1...4).map {
                    SwitchPort(portNumber: PortNumber($0), hardwareAddress: MACAddress(UInt64($0)), name: "p\($0)")
                }))))
            case .desc:
                reply(.multipartReply(MultipartReply(body: .desc(SwitchDescription(
                    manufacturer: "Tusk tests", hardware: "fake switch", software: "0", serialNumber: "", datapath: "")))))
            case .flow where endlessFlowStats:
                let entry = FlowStats(tableID: 0, durationSec: 1, durationNsec: 0, priority: 7, idleTimeout: 0, hardTimeout: 0,
                                      flags: [], cookie: 0x7e57, packetCount: 0, byteCount: 0,
                                      match: [.ethType(0x0800), .ipv4Dst(IPv4Address(10, 9, 9, 9))],
                                      instructions: [.applyActions([.output(port: PortNumber(1), maxLength: 0)])])
                let part = MultipartReply(flags: .more, body: .flow(Array(repeating: entry, count: 50)))
                Self.writeEndless(NIOLoopBound((self, context), eventLoop: context.eventLoop), xid: env.xid, part: part)
            case .flow:
                let flows = state.tables.withLock { $0.flows }
                let stats = flows.map {
                    FlowStats(tableID: $0.tableID, durationSec: 1, durationNsec: 0, priority: $0.priority, idleTimeout: 0,
                              hardTimeout: 0, flags: [], cookie: $0.cookie, packetCount: 0, byteCount: 0,
                              match: OpenFlowMatch($0.match.fields.reversed()), instructions: $0.instructions)
                }
                // In parts of 3, to exercise OFPMPF_REPLY_MORE.
                var i = 0
                repeat {
                    let part = Array(stats[min(i, stats.count)..<min(i + 3, stats.count)])
                    i += 3
                    reply(.multipartReply(MultipartReply(flags: i < stats.count ? .more : [], body: .flow(part))))
                } while i < stats.count
            case .groupDesc:
                let groups = state.tables.withLock { Array($0.groups.values) }
                reply(.multipartReply(MultipartReply(body: .groupDesc(groups))))
            default:
                reply(.error(ErrorMessage(kind: .badRequestBadMultipart)))
            }
        case .flowMod(let f):
            state.tables.withLock { $0.apply(f) }
        case .groupMod(let g):
            if let e = state.tables.withLock({ $0.apply(g) }) { reply(.error(ErrorMessage(kind: e))) }
        case .barrierRequest:
            state.tables.withLock { $0.barriers += 1 }
            reply(.barrierReply)
        case .echoRequest(let d):
            if answersEcho { reply(.echoReply(d)) }
        case .error(let e):
            state.tables.withLock { $0.errorsSeen.append(e) }
        default:
            break
        }
        context.flush()
    }
}

enum FakeSwitch {
    /// Connects a fake switch to `port` on localhost.
    static func connect(port: Int, state: FakeSwitchState, tls: NIOSSLContext? = nil, helloVersions: [UInt8] = [4],
                        answersEcho: Bool = true, endlessFlowStats: Bool = false) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    // First in the pipeline: raw bytes written here go to the socket past the encoder.
                    try ch.pipeline.syncOperations.addHandler(RawGate())
                    try OpenFlowPipeline.addCodec(ch, tls: tls, isServer: false)
                    try ch.pipeline.syncOperations.addHandler(
                        FakeSwitchHandler(state: state, helloVersions: helloVersions, answersEcho: answersEcho,
                                          endlessFlowStats: endlessFlowStats))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }
}

/// The socket end of a fake switch's pipeline: `writeRaw` sends bytes as they are (hostile input that
/// the encoder would never make: bad lengths, other versions, junk).
final class RawGate: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
}

extension Channel {
    /// Writes `bytes` to the socket as they are; completes once written.
    func writeRaw(_ bytes: ByteBuffer) async throws {
        try await eventLoop.flatSubmit { [self] in
            do {
                let ctx = try pipeline.syncOperations.context(handlerType: RawGate.self)
                let p = eventLoop.makePromise(of: Void.self)
                ctx.writeAndFlush(NIOAny(bytes), promise: p)
                return p.futureResult
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        }.get()
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
