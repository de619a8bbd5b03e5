import Packets
import SFlow

/// A switch port as sFlow names it: the agent address and the ifIndex.
public struct AgentPort: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var agent: IPAddress
    public var ifIndex: UInt32

    public init(agent: IPAddress, ifIndex: UInt32) {
        self.agent = agent
        self.ifIndex = ifIndex
    }

    public var description: String { "\(agent)#\(ifIndex)" }
    public static func < (a: Self, b: Self) -> Bool { (a.agent, a.ifIndex) < (b.agent, b.ifIndex) }
}

/// What an ifIndex is in OpenFlow terms (sFlow OpenFlow port record 1004, port name 1005, or the
/// topology file for switches that send neither).
public struct PortIdentity: Hashable, Sendable {
    public var datapathId: UInt64?
    public var portNo: UInt32?
    public var name: String?

    public init(datapathId: UInt64? = nil, portNo: UInt32? = nil, name: String? = nil) {
        self.datapathId = datapathId
        self.portNo = portNo
        self.name = name
    }
}

/// ifIndex → datapath id, OpenFlow port and name, learned from counter samples.
///
/// One OpenFlow port is one agent port. When a second agent claims a (dpid, port) that another agent
/// holds (a misconfigured or forged agent, or a flood of synthetic datagrams naming the same datapath
/// ids), the holder keeps it while it keeps claiming it: the claimant takes over only once the holder
/// has not named the port for `takeoverSeconds`. The claim is counted (`conflicts`). The same agent
/// naming the port under another ifIndex (ports renumbered) takes it over at once.
public struct PortMap: Sendable {
    private var map: [AgentPort: PortIdentity] = [:]
    /// Reverse index: (dpid, port) → the agent port holding it, for looking up a topology link's
    /// sFlow view, and when the holder's counters last named it (analytics time). One entry for both:
    /// every port's counters renew the claim each polling interval.
    private var reverse: [DpidPort: (holder: AgentPort, claimed: Double)] = [:]
    /// Claims refused because another agent holds the port.
    public private(set) var conflicts = 0
    /// The last refused claim: the port, its holder and the claimant.
    public private(set) var lastConflict: (port: DpidPort, holder: AgentPort, claimant: AgentPort)?
    /// How long a holder may fall silent before another agent's claim on its port wins.
    public static let takeoverSeconds = 60.0

    /// Counts the changes to the (dpid, port) → agent port index: a reader that caches lookups
    /// through it knows they still hold while this is the same.
    public private(set) var generation = 0

    public init() {}

    public subscript(_ p: AgentPort) -> PortIdentity? { map[p] }

    public func agentPort(dpid: UInt64, port: UInt32) -> AgentPort? { reverse[DpidPort(dpid: dpid, port: port)]?.holder }

    /// True when `p` is named (dpid, port) now: `self[p]`'s datapath id and port, read in place.
    public func names(_ p: AgentPort, dpid: UInt64, port: UInt32) -> Bool {
        guard let i = map.index(forKey: p) else { return false }
        return map.values[i].datapathId == dpid && map.values[i].portNo == port
    }

    /// Learns from one counter sample (its data source index is the ifIndex it describes), at
    /// analytics time `t`. Returns true when the (dpid, port) → agent port index changed.
    @discardableResult
    public mutating func learn(agent: IPAddress, counters: CounterSample, at t: Double = 0) -> Bool {
        var id = PortIdentity()
        var ifIndex = counters.source.index
        for r in counters.records {
            switch r {
            case .openFlowPort(let p):
                id.datapathId = p.datapathId
                id.portNo = p.portNo
            case .portName(let n):
                id.name = n.name
            case .genericInterface(let g):
                ifIndex = g.ifIndex
            default:
                break
            }
        }
        guard id.datapathId != nil || id.name != nil else { return false }
        let p = AgentPort(agent: agent, ifIndex: ifIndex)
        // Every port of every switch says the same each polling interval: what is unchanged is
        // not written again.
        let known = map[p]
        var v = known ?? PortIdentity()
        if let n = id.name { v.name = n }
        if let d = id.datapathId, let n = id.portNo {
            let key = DpidPort(dpid: d, port: n)
            let held = reverse[key]
            let holder = held?.holder
            if let held, held.holder != p, held.holder.agent != agent, t - held.claimed < Self.takeoverSeconds {
                // Refused: the claimant gets no OpenFlow identity (its samples map to no link).
                conflicts += 1
                lastConflict = (key, held.holder, p)
                if v != known { map[p] = v }
                return false
            }
            v.datapathId = d
            v.portNo = n
            if v != known { map[p] = v }
            guard holder != p else {
                reverse[key]?.claimed = t
                return false
            }
            if let holder { map[holder]?.datapathId = nil; map[holder]?.portNo = nil }
            reverse[key] = (p, t)
            generation += 1
            return true
        }
        if let d = id.datapathId { v.datapathId = d }
        if let n = id.portNo { v.portNo = n }
        map[p] = v
        return false
    }

    /// Sets a mapping by hand (from the topology file or policy): it holds the port from then on.
    public mutating func set(_ p: AgentPort, _ id: PortIdentity, merge: Bool = false) {
        var v = merge ? (map[p] ?? PortIdentity()) : PortIdentity()
        if let d = id.datapathId { v.datapathId = d }
        if let n = id.portNo { v.portNo = n }
        if let n = id.name { v.name = n }
        map[p] = v
        if let d = v.datapathId, let n = v.portNo {
            reverse[DpidPort(dpid: d, port: n)] = (p, .infinity)
            generation += 1
        }
    }

    public var count: Int { map.count }
    public var all: [(AgentPort, PortIdentity)] { map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}

/// An OpenFlow switch port.
public struct DpidPort: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var dpid: UInt64
    public var port: UInt32

    public init(dpid: UInt64, port: UInt32) {
        self.dpid = dpid
        self.port = port
    }

    public var description: String { "\(dpid):\(port)" }
    public static func < (a: Self, b: Self) -> Bool { (a.dpid, a.port) < (b.dpid, b.port) }
}
