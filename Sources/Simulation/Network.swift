// The fabric as the simulator runs it: every directed link with a capacity, the switch that
// transmits on it, and hop-by-hop ECMP forwarding.
import Packets
import Topology

/// A topology compiled for simulation. Directed link `d` of the topology is index `d.index` here.
public struct SimNetwork: Sendable {
    public let topology: Topology
    public let routing: RoutingTable
    /// Capacity of each directed link, bits per second.
    public let capacities: [Double]
    /// The switch that transmits on each directed link (-1: a host's uplink).
    public let transmitter: [Int32]
    /// True for switch-to-switch links.
    public let isFabric: [Bool]
    /// Switch each host is cabled to.
    public let hostSwitch: [Int32]
    /// Sum of host link capacities (bits/s): the full bisection bandwidth figures are normalised to.
    public let fullBisection: Double

    public init(_ t: Topology) {
        topology = t
        routing = RoutingTable(t)
        var caps = [Double](repeating: 0, count: t.links.count * 2)
        var tx = [Int32](repeating: -1, count: t.links.count * 2)
        var fabric = [Bool](repeating: false, count: t.links.count * 2)
        for (i, l) in t.links.enumerated() {
            caps[2 * i] = Double(l.capacity)
            caps[2 * i + 1] = Double(l.capacity)
            tx[2 * i] = Int32(l.a.switchPort?.switchID.index ?? -1)
            tx[2 * i + 1] = Int32(l.b.switchPort?.switchID.index ?? -1)
            fabric[2 * i] = !l.isHostLink
            fabric[2 * i + 1] = !l.isHostLink
        }
        capacities = caps
        transmitter = tx
        isFabric = fabric
        hostSwitch = t.hosts.map { Int32($0.attachment.switchID.index) }
        fullBisection = Double(t.totalHostCapacity)
    }

    public var directedLinkCount: Int { capacities.count }

    /// The path a fabric of hashing switches gives a flow: at each switch, the equal-cost next hop
    /// chosen by a hash of the 5-tuple salted per switch (real switches salt their hash with a
    /// per-switch seed, else every tier would pick the same index and polarise the load).
    public func ecmpPath(src: HostID, dst: HostID, key: FlowKey, salt: UInt64) -> [Int32] {
        var path: [Int32] = [Int32(topology.uplink(of: src).index)]
        var s = SwitchID(Int(hostSwitch[src.index]))
        let t = SwitchID(Int(hostSwitch[dst.index]))
        let flowHash = SimNetwork.hash(key)
        var guardHops = 0
        while s != t, guardHops < 64 {
            let hops = routing.nextHops(at: s, toward: t)
            guard !hops.isEmpty else { break }
            let h = SplitMix64.mix(flowHash ^ SplitMix64.mix(salt ^ topology[s].dpid))
            let pick = hops[Int(h % UInt64(hops.count))]
            path.append(Int32(pick.egress.index))
            s = pick.neighbour
            guardHops += 1
        }
        path.append(Int32(topology.downlink(of: dst).index))
        return path
    }

    /// The path through one ideal switch: only the two host links.
    public func nonBlockingPath(src: HostID, dst: HostID) -> [Int32] {
        [Int32(topology.uplink(of: src).index), Int32(topology.downlink(of: dst).index)]
    }

    /// A stable 5-tuple hash (not `Hasher`, whose seed changes per process).
    public static func hash(_ k: FlowKey) -> UInt64 {
        func addr(_ a: IPAddress) -> UInt64 {
            switch a {
            case .v4(let v): UInt64(v.value)
            case .v6(let v): SplitMix64.mix(v.high) ^ v.low
            }
        }
        var h = SplitMix64.mix(addr(k.src))
        h = SplitMix64.mix(h ^ addr(k.dst))
        h = SplitMix64.mix(h ^ (UInt64(k.proto) << 32 | UInt64(k.sport) << 16 | UInt64(k.dport)))
        return h
    }

    /// Switches that hold an entry for a flow pinned to `path` (every transmitter but the host).
    public func switches(on path: [Int32]) -> [Int32] {
        path.compactMap { transmitter[Int($0)] >= 0 ? transmitter[Int($0)] : nil }
    }
}
