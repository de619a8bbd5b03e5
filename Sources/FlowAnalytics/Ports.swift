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
public struct PortMap: Sendable {
    private var map: [AgentPort: PortIdentity] = [:]
    /// Reverse index: (dpid, port) → agent port, for looking up a topology link's sFlow view.
    private var reverse: [DpidPort: AgentPort] = [:]

    public init() {}

    public subscript(_ p: AgentPort) -> PortIdentity? { map[p] }

    public func agentPort(dpid: UInt64, port: UInt32) -> AgentPort? { reverse[DpidPort(dpid: dpid, port: port)] }

    /// Learns from one counter sample (its data source index is the ifIndex it describes).
    public mutating func learn(agent: IPAddress, counters: CounterSample) {
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
        guard id.datapathId != nil || id.name != nil else { return }
        set(AgentPort(agent: agent, ifIndex: ifIndex), id, merge: true)
    }

    /// Sets a mapping by hand (from the topology file or policy).
    public mutating func set(_ p: AgentPort, _ id: PortIdentity, merge: Bool = false) {
        var v = merge ? (map[p] ?? PortIdentity()) : PortIdentity()
        if let d = id.datapathId { v.datapathId = d }
        if let n = id.portNo { v.portNo = n }
        if let n = id.name { v.name = n }
        map[p] = v
        if let d = v.datapathId, let n = v.portNo { reverse[DpidPort(dpid: d, port: n)] = p }
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
