// The proactive fabric as the links that are up allow. When a fabric port goes down, its link leaves
// the topology the fabric is computed from: every switch whose shortest paths crossed it gets new
// entries and groups (for example, the other leaf's group toward this leaf drops the spine that can no
// longer reach it), and every active switch is reconciled against the new tables at once. The switch
// with the dead port skips it by itself (its SELECT buckets watch their ports); the others cannot know
// without being told. When the port comes back, the full fabric returns the same way.
//
// Port status comes from the switches, and a switch may send it as fast as it likes (a flapping port,
// a broken or hostile switch): recomputations are coalesced. The first change after a quiet spell is
// recomputed at once; changes within `minimumInterval` of the last recomputation wait for one more,
// which then takes all of them at once. So the work (and the reconciliations it starts) per second is
// bounded whatever the rate of port status, and a single link failure is still acted on at once.
import FabricProgramming
import Logging
import NIOConcurrencyHelpers
import NIOCore
import OpenFlow
import Topology

public final class FabricKeeper: Sendable {
    public let topology: Topology
    private let logger: Logger
    private struct State {
        var down: Set<Int> = []
        /// The links down in the fabric last computed (`desired`).
        var computedDown: Set<Int> = []
        var desired: FabricState
        var sessions: [UInt64: SwitchSession] = [:]
        var lastRecompute: NIODeadline?
        /// A recomputation is scheduled (changes until then are taken by it).
        var scheduled = false
        var recomputations = 0
    }
    private let state: NIOLockedValueBox<State>
    /// Where a deferred recomputation runs.
    private let loop: any EventLoop
    /// The least time between two recomputations.
    public let minimumInterval: TimeAmount

    public init(topology: Topology, logger: Logger, loop: any EventLoop, minimumInterval: TimeAmount = .milliseconds(100)) {
        self.topology = topology
        self.logger = logger
        self.loop = loop
        self.minimumInterval = minimumInterval
        state = NIOLockedValueBox(State(desired: ProactiveFabric(topology: topology).desiredState()))
    }

    /// How many times the fabric was recomputed (port status coalesced).
    public var recomputations: Int { state.withLockedValue { $0.recomputations } }

    /// The table a switch should hold now (nil: not in the topology).
    public func desired(_ dpid: UInt64) -> SwitchTable? { state.withLockedValue { $0.desired[dpid] } }

    /// Fabric links down now, by link index.
    public var downLinks: Set<Int> { state.withLockedValue { $0.down } }

    /// The fabric without the links that are down.
    public static func fabric(_ t: Topology, without down: Set<Int>) -> FabricState {
        guard !down.isEmpty else { return ProactiveFabric(topology: t).desiredState() }
        let links = t.links[0..<t.fabricLinkCount].enumerated().filter { !down.contains($0.offset) }.map(\.element)
        guard let reduced = try? Topology(name: t.name, switches: t.switches, links: links, hosts: t.hosts) else {
            return ProactiveFabric(topology: t).desiredState()
        }
        return ProactiveFabric(topology: reduced).desiredState()
    }

    /// Session events: keeps the registry, and recomputes the fabric on port status. Called on the
    /// session's event loop, before the session reads `desired` for its first reconciliation.
    public func handle(_ event: SessionEvent) {
        switch event {
        case .active(let s):
            let dpid = s.info.datapathID
            state.withLockedValue { $0.sessions[dpid] = s }
            // Ports already down when the switch connects.
            var changed = false
            for p in s.info.ports where p.state & 1 != 0 || p.config & 1 != 0 {
                changed = mark(dpid: dpid, port: p.portNumber.rawValue, down: true) || changed
            }
            // At once (not coalesced): this session reads `desired` for its first reconciliation next.
            if changed { recompute(skipping: dpid) }
        case .closed(let dpid, _):
            guard let dpid else { return }
            state.withLockedValue { st in
                if let s = st.sessions[dpid], !s.channel.isActive { st.sessions[dpid] = nil }
            }
        case .portStatus(let dpid, let ps):
            // OFPPS_LINK_DOWN (state bit 0), OFPPC_PORT_DOWN (config bit 0), or the port deleted.
            let down = ps.reason == .delete || ps.port.state & 1 != 0 || ps.port.config & 1 != 0
            if mark(dpid: dpid, port: ps.port.portNumber.rawValue, down: down) { requestRecompute() }
        case .reconciled, .flowRemoved:
            break
        }
    }

    /// Marks the fabric link of a port up or down; true when that changed anything.
    private func mark(dpid: UInt64, port: UInt32, down: Bool) -> Bool {
        guard let s = topology.switchID(dpid: dpid), let p = topology.port(PortRef(s, port)),
              p.link.index < topology.fabricLinkCount else { return false }
        return state.withLockedValue { st in
            down ? st.down.insert(p.link.index).inserted : st.down.remove(p.link.index) != nil
        }
    }

    /// Recomputes now if the last recomputation is old enough, else once `minimumInterval` after it.
    private func requestRecompute() {
        let now = NIODeadline.now()
        let delay: TimeAmount? = state.withLockedValue { st in
            if st.scheduled { return nil }
            guard let last = st.lastRecompute, now < last + minimumInterval else { return .zero }
            st.scheduled = true
            return last + minimumInterval - now
        }
        guard let delay else { return }
        if delay == .zero {
            recompute(skipping: nil)
        } else {
            loop.scheduleTask(in: delay) { [self] in
                state.withLockedValue { $0.scheduled = false }
                recompute(skipping: nil)
            }
        }
    }

    private func recompute(skipping: UInt64?) {
        let (down, before) = state.withLockedValue { st in
            st.lastRecompute = .now()
            st.recomputations += 1
            return (st.down, st.computedDown)
        }
        // The links whose state changed since the fabric was last computed (a link that went down and
        // up again in between changed nothing).
        for i in before.symmetricDifference(down).sorted() {
            let l = topology.links[i]
            let wentDown = down.contains(i)
            logger.warning(wentDown ? "fabric link down: recomputing the fabric without it" : "fabric link up: restoring it to the fabric",
                           metadata: ["link": "\(topology.describe(l.a))-\(topology.describe(l.b))"])
        }
        let next = Self.fabric(topology, without: down)
        let sessions = state.withLockedValue { st in
            st.desired = next
            st.computedDown = down
            return st.sessions
        }
        for (dpid, s) in sessions.sorted(by: { $0.key < $1.key }) where dpid != skipping {
            if let table = next[dpid] { s.reconcile(table) }
        }
    }
}
