// The proactive fabric as the links that are up allow. When a fabric port goes down, its link leaves
// the topology the fabric is computed from: every switch whose shortest paths crossed it gets new
// entries and groups (for example, the other leaf's group toward this leaf drops the spine that can no
// longer reach it), and every active switch is reconciled against the new tables at once. The switch
// with the dead port skips it by itself (its SELECT buckets watch their ports); the others cannot know
// without being told. When the port comes back, the full fabric returns the same way.
import FabricProgramming
import Logging
import NIOConcurrencyHelpers
import OpenFlow
import Topology

public final class FabricKeeper: Sendable {
    public let topology: Topology
    private let logger: Logger
    private struct State {
        var down: Set<Int> = []
        var desired: FabricState
        var sessions: [UInt64: SwitchSession] = [:]
    }
    private let state: NIOLockedValueBox<State>

    public init(topology: Topology, logger: Logger) {
        self.topology = topology
        self.logger = logger
        state = NIOLockedValueBox(State(desired: ProactiveFabric(topology: topology).desiredState()))
    }

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
            if changed { recompute(skipping: dpid) }
        case .closed(let dpid, _):
            guard let dpid else { return }
            state.withLockedValue { st in
                if let s = st.sessions[dpid], !s.channel.isActive { st.sessions[dpid] = nil }
            }
        case .portStatus(let dpid, let ps):
            // OFPPS_LINK_DOWN (state bit 0), OFPPC_PORT_DOWN (config bit 0), or the port deleted.
            let down = ps.reason == .delete || ps.port.state & 1 != 0 || ps.port.config & 1 != 0
            if mark(dpid: dpid, port: ps.port.portNumber.rawValue, down: down) { recompute(skipping: nil) }
        case .reconciled, .flowRemoved:
            break
        }
    }

    /// Marks the fabric link of a port up or down; true when that changed anything.
    private func mark(dpid: UInt64, port: UInt32, down: Bool) -> Bool {
        guard let s = topology.switchID(dpid: dpid), let p = topology.port(PortRef(s, port)),
              p.link.index < topology.fabricLinkCount else { return false }
        let changed = state.withLockedValue { st in
            down ? st.down.insert(p.link.index).inserted : st.down.remove(p.link.index) != nil
        }
        if changed {
            let (a, b) = topology.ends(of: p.egress)
            logger.warning(down ? "fabric link down: recomputing the fabric without it" : "fabric link up: restoring it to the fabric",
                           metadata: ["link": "\(topology.describe(a))-\(topology.describe(b))"])
        }
        return changed
    }

    private func recompute(skipping: UInt64?) {
        let down = state.withLockedValue { $0.down }
        let next = Self.fabric(topology, without: down)
        let sessions = state.withLockedValue { st in
            st.desired = next
            return st.sessions
        }
        for (dpid, s) in sessions.sorted(by: { $0.key < $1.key }) where dpid != skipping {
            if let table = next[dpid] { s.reconcile(table) }
        }
    }
}
