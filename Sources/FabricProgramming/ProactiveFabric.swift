// The proactive ECMP fabric: per-destination entries computed from the topology alone, installed
// before any traffic (no packet-in, no flooding).
//
// On every switch, for every host H (attached to switch T):
//   - at T:                 ip,nw_dst=H  → output:H's port     arp,arp_tpa=H → output:H's port
//   - one shortest next hop: the same two entries → output:that port (the way down: deterministic)
//   - several next hops:    the same two entries → group:SELECT over those ports (the way up: ECMP
//                           by hash; one group per destination switch, shared by its hosts; see
//                           `buckets(_:at:)` for why upper tiers repeat buckets)
// ARP is forwarded by its target address like unicast IP, so hosts resolve each other without
// flooding. Hosts with an IPv6 address get `ipv6,ipv6_dst=` entries and their neighbour
// solicitations are forwarded by ND target the same way.
import OpenFlow
import Topology

public struct ProactiveFabric: Sendable {
    public let topology: Topology
    public let routing: RoutingTable
    /// Priority of fabric entries: `OFP_DEFAULT_PRIORITY`; elephant entries sit above it.
    public var priority: UInt16
    public var tableID: UInt8
    /// Per switch: how many ECMP tiers lie below it (hops to the nearest switch with hosts, capped).
    private let tiers: [Int]

    public init(topology: Topology, priority: UInt16 = 0x8000, tableID: UInt8 = 0) {
        self.topology = topology
        let routing = RoutingTable(topology)
        self.routing = routing
        self.priority = priority
        self.tableID = tableID
        let edges = Set(topology.hosts.map(\.attachment.switchID))
        tiers = topology.switchIDs.map { s in
            min(3, edges.compactMap { routing.distance(from: s, to: $0) }.min() ?? 0)
        }
    }

    /// The SELECT buckets for `ports` at switch `s`: each port repeated 2^tier times, in a row.
    ///
    /// Why: every switch of a path hashes the same 5-tuple with the same function, so with plain
    /// buckets the flows an edge switch sent to one aggregation switch (all with the same low hash
    /// bit) all take the same core there, and half the cores stay idle ("hash polarization"). A
    /// switch that maps hash values to buckets in turn (Open vSwitch's dp_hash table does, with
    /// equal weights) picks by bit 0 over [a, b], and by bit 1 over [a, a, b, b]; so each tier
    /// decides by another bit. Over a switch that hashes otherwise the repeats change nothing: every
    /// port keeps an equal share.
    func buckets(_ ports: [UInt32], at s: SwitchID) -> [Bucket] {
        let repeats = 1 << tiers[s.index]
        return ports.flatMap { p in
            // Each bucket watches its own port: a switch that honours liveness for SELECT groups
            // (Open vSwitch does) stops hashing onto an uplink that is down.
            repeatElement(Bucket(weight: 1, watchPort: PortNumber(p), actions: [.output(port: PortNumber(p), maxLength: 0)]),
                          count: repeats)
        }
    }

    /// Desired state of every switch, keyed by datapath id.
    public func desiredState() -> FabricState {
        var state = FabricState()
        for s in topology.switchIDs {
            let t = table(for: s)
            state.switches[t.dpid] = t
        }
        return state
    }

    /// The port of switch `s` a directed fabric link leaves by.
    private func egressPort(_ d: DirectedLinkID) -> UInt32? {
        topology.ends(of: d).from.switchPort?.port
    }

    /// Desired entries of one switch.
    public func table(for s: SwitchID) -> SwitchTable {
        let sw = topology[s]
        var table = SwitchTable(dpid: sw.dpid, name: sw.name)
        for h in topology.hostIDs {
            let host = topology[h]
            let target = host.attachment.switchID
            let action: OpenFlowAction
            if target == s {
                action = .output(port: PortNumber(host.attachment.port), maxLength: 0)
            } else {
                let ports = routing.nextHops(at: s, toward: target).compactMap { egressPort($0.egress) }.sorted()
                switch ports.count {
                case 0:
                    continue // unreachable from here
                case 1:
                    action = .output(port: PortNumber(ports[0]), maxLength: 0)
                default:
                    let gid = GroupID(FabricGroupID.toward(switchIndex: target.index))
                    if table.groups[gid] == nil {
                        table.add(DesiredGroup(groupID: gid, type: .select, buckets: buckets(ports, at: s)))
                    }
                    action = .group(gid)
                }
            }
            let id = UInt64(h.index)
            let apply: [OpenFlowInstruction] = [.applyActions([action])]
            table.add(DesiredFlow(cookie: .fabric(.ipv4, id: id), tableID: tableID, priority: priority,
                                  match: [.ethType(0x0800), .ipv4Dst(host.ipv4)], instructions: apply))
            table.add(DesiredFlow(cookie: .fabric(.arp, id: id), tableID: tableID, priority: priority,
                                  match: [.ethType(0x0806), .arpTPA(host.ipv4)], instructions: apply))
            if let v6 = host.ipv6 {
                table.add(DesiredFlow(cookie: .fabric(.ipv6, id: id), tableID: tableID, priority: priority,
                                      match: [.ethType(0x86DD), .ipv6Dst(v6)], instructions: apply))
                // ICMPv6 type 135 (neighbour solicitation) goes to a solicited-node multicast address:
                // forward it by its target instead (OF 1.3.5 §7.2.3.7 OXM_OF_IPV6_ND_TARGET).
                table.add(DesiredFlow(cookie: .fabric(.neighborSolicitation, id: id), tableID: tableID,
                                      priority: priority &+ 1,
                                      match: [.ethType(0x86DD), .ipProto(58), .icmpv6Type(135), .ipv6NDTarget(v6)],
                                      instructions: apply))
            }
        }
        return table
    }
}
