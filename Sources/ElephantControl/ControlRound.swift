// The control round: one pass of Tusk's loop, pure. Analytics and topology in; decisions with their
// reasons and a per-switch programming plan out. The simulator (synthetic sFlow), `tusk replay` (a
// capture, in capture time) and the daemon (live sFlow, real switches) all drive this same code; they
// differ only at the edges: where samples come from and where the plan goes.
//
// One round:
//  1. link loads from the analytics (counters and samples, both ends of a link averaged), smoothed;
//  2. expiry: pins whose flow went quiet have idled out on the switches;
//  3. the elephant list: hosts, current path (pinned, or inferred from the ports the samples were
//     seen on), candidates, demands, policy class, hold;
//  4. lag compensation: recent moves are not yet visible in the measurements;
//  5. selection, then the programming plan (desired pins -> table changes per datapath id);
//  6. move records (hold times, lag compensation).
// Inputs only a daemon has (FLOW_REMOVED, a port going down, entries adopted after a restart, a
// refused flow-mod) come in through their own methods and take effect in the state the next round
// reads.
import FabricProgramming
import FlowAnalytics
import Foundation
import Packets
import PathSelection
import Topology

/// The fabric as a control round sees it: the topology with its routing and link capacities.
public struct ControlFabric: Sendable {
    public let topology: Topology
    public let routing: RoutingTable
    /// Capacity of each directed link, bits per second (`DirectedLinkID.index`).
    public let capacities: [Double]
    /// The switch each host is cabled to.
    public let hostSwitch: [Int32]
    /// Each host's link capacity, bits per second (by `HostID.index`).
    public let hostCapacity: [Double]

    public init(topology t: Topology, routing: RoutingTable? = nil) {
        topology = t
        self.routing = routing ?? RoutingTable(t)
        var caps = [Double](repeating: 0, count: t.links.count * 2)
        for (i, l) in t.links.enumerated() {
            caps[2 * i] = Double(l.capacity)
            caps[2 * i + 1] = Double(l.capacity)
        }
        capacities = caps
        hostSwitch = t.hosts.map { Int32($0.attachment.switchID.index) }
        hostCapacity = t.hosts.map { Double($0.capacity) }
    }

    public var directedLinkCount: Int { capacities.count }

    /// "l1>s1": a directed link by the names of its ends (hosts and switches).
    public func name(of d: DirectedLinkID) -> String {
        let (a, b) = topology.ends(of: d)
        return "\(endpointName(a))>\(endpointName(b))"
    }

    /// The nodes a path visits, by name: host, switches, host.
    public func nodeNames(of p: Path) -> [String] {
        guard let first = p.links.first else { return [] }
        var out = [endpointName(topology.ends(of: first).from)]
        for l in p.links { out.append(endpointName(topology.ends(of: l).to)) }
        return out
    }

    private func endpointName(_ e: Endpoint) -> String {
        if let s = e.switchPort { return topology[s.switchID].name }
        if let h = e.hostID { return topology[h].name }
        return "?"
    }
}

/// Path enumeration over the routing table's next hops (cheaper than a search per pair on big fabrics).
public struct PathEnumerator: Sendable {
    public let topology: Topology
    public let routing: RoutingTable
    public let hostSwitch: [Int32]

    public init(topology: Topology, routing: RoutingTable, hostSwitch: [Int32]) {
        self.topology = topology
        self.routing = routing
        self.hostSwitch = hostSwitch
    }

    public func paths(from src: HostID, to dst: HostID) -> [Path] {
        routing.paths(from: SwitchID(Int(hostSwitch[src.index])), to: SwitchID(Int(hostSwitch[dst.index])),
                      first: topology.uplink(of: src), last: topology.downlink(of: dst))
    }

    /// The same paths, described by the routing table instead of listed (nothing is enumerated).
    public func candidates(from src: HostID, to dst: HostID) -> CandidatePaths {
        routing.candidatePaths(from: SwitchID(Int(hostSwitch[src.index])), to: SwitchID(Int(hostSwitch[dst.index])),
                               first: topology.uplink(of: src), last: topology.downlink(of: dst))
    }
}

/// A selector that never moves anything (ECMP alone; the loop's own overhead, measured).
public struct NoMoves: PathSelector {
    public init() {}
    public var name: String { "ecmp" }
    public mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult { SelectionResult() }
}

/// An elephant as one round saw it.
public struct RoundElephant: Sendable {
    public var key: FlowKey
    public var src: HostID
    public var dst: HostID
    /// Smoothed rate the selector used, bits/s.
    public var rate: Double
    /// The analytics' estimate this round, bits/s, and its 95 % error bound in percent.
    public var measuredBps: Double
    public var errorPercent: Double
    /// Where it goes now (pinned, or inferred from where it was sampled); nil when not known.
    public var current: Path?
    public var pinned: Bool
    /// Analytics time of the flow's first sample.
    public var firstSeen: Double
    public var demand: Double
}

/// A link's utilization before and (predicted) after a round's decisions.
public struct LinkChange: Sendable, Hashable {
    public var link: DirectedLinkID
    public var before: Double
    public var after: Double
}

/// A move the round made: the selector's decision, the flow's measurement and what it does to the links.
public struct RoundDecision: Sendable {
    public var decision: Decision
    public var key: FlowKey { decision.key }
    public var measuredBps: Double
    public var errorPercent: Double
    public var firstSeen: Double
    /// Links of the old and new path that differ, with their utilization before and predicted after.
    public var links: [LinkChange]
}

/// What a round decided.
public struct RoundResult: Sendable {
    public var time: Double
    public var elephants: [RoundElephant] = []
    /// Moves that made it into the plan (in plan order).
    public var decisions: [RoundDecision] = []
    /// The selector's skips (held, small gain, move cap, excluded, unknown path).
    public var skipped: [(key: FlowKey, reason: SkipReason)] = []
    /// Whether the selector's rearranging phases ran, and if not why (nil: no selection this round,
    /// or a selector without them).
    public var rearranging: Rearranging?
    public var plan = ProgrammingPlan()
    /// Flows whose pins were withdrawn this round because a link of their path is down and no move
    /// could take them off it (they fall back to ECMP).
    public var withdrawn: [FlowKey] = []
    /// The load of each directed link as the selector saw it (smoothed, lag-compensated), bits/s.
    public var load: [Double] = []
    /// Peak utilization over fabric links before and (predicted) after the decisions.
    public var peakBefore = 0.0
    public var peakAfter = 0.0

    /// The plan's table changes by datapath id, in switch order.
    public var changesByDatapath: [(dpid: UInt64, changes: [EntryChange])] {
        var out: [(dpid: UInt64, changes: [EntryChange])] = []
        for c in plan.changes {
            if let last = out.last, last.dpid == c.entry.dpid {
                out[out.count - 1].changes.append(c)
            } else {
                out.append((c.entry.dpid, [c]))
            }
        }
        return out
    }
}

/// The control loop's state across rounds: stability, the selector's memory, the programmer's pins,
/// path inference caches and recent moves.
public struct ElephantControl: Sendable {
    public let fabric: ControlFabric
    public private(set) var policy: Policy
    /// The control interval the lag compensation assumes (the driver's round spacing).
    public private(set) var interval: Double
    public private(set) var programmer: FabricProgrammer
    public private(set) var rounds = 0
    /// Fabrics with at least this many switches have their ports' analytics slots looked up on two
    /// threads (the answer is the same on one).
    public var parallelPortsFrom = 64

    private let seed: UInt64
    private var selector: any PathSelector
    private var stability: StabilityState
    private let enumerator: PathEnumerator
    /// The directed link of each analytics port slot a flow was seen entering (`input`) or leaving
    /// (`output`) by, -1 until learnt, for the analytics `instance` (another's slots mean nothing).
    /// Arrays by slot: a first k=32 round needs 80,000 of them, and hashing each port was a tenth of
    /// it. Learnt for every port with a slot when the slots are read (`portSlots`), and from a
    /// report's ports for any other.
    private var linkOfSlot: (instance: UInt64, input: [Int32], output: [Int32]) = (0, [], [])
    /// The analytics' slot of each switch port that has one, and the analytics' port index
    /// generation they were read at.
    private var portSlots: (generation: PortSlotGeneration?, slots: [(slot: Int32, egress: DirectedLinkID)]) = (nil, [])
    /// Small fabrics (up to 1,024 hosts): the candidates of every pair asked for so far.
    private var pathCache: [Int: CandidatePaths] = [:]
    /// The programmer's settings changed since the last plan (a new policy).
    private var programmingChanged = false
    /// Large fabrics: the candidates of the pairs the elephants use, with the last round that used
    /// each; kept from round to round, a pair forgotten when a round passes without it.
    private var pathsInUse: [Int: (paths: CandidatePaths, round: Int)] = [:]
    /// Pairs of `pathsInUse` used this round.
    private var pairsUsed = 0
    /// The moves of the last few seconds, for the measurement lag's compensation.
    private var recentMoves = RecentMoves()
    /// The last round's demand estimate and the host pairs it was made for: the estimate depends on
    /// the pairs alone (and the hosts' capacities, which do not change), so a round with the same
    /// elephants between the same hosts reuses it (65,536 flows at k=64).
    private var demandCache: (flows: [DemandFlow], demands: [Double]) = ([], [])
    /// When adopted pins were adopted: they are kept through the analytics' warm-up after a restart.
    private var adoptedAt: [FlowKey: Double] = [:]
    /// The pins' expiry check: the analytics' tracking generation when every pin was last looked
    /// up, and the earliest time a pin's flow was last seen, of those and of the pins made since
    /// (nil: every pin is looked up in the next round).
    private var pinsSeen: (generation: TrackingGeneration, oldest: Double)?
    /// Directed links reported down (both directions of a link whose port went down).
    public private(set) var downLinks: Set<Int> = []

    /// `selector`: one made by the caller, in place of the algorithm's (a benchmark that weighs a
    /// selector's phases one by one); a new policy with another algorithm replaces it.
    public init(fabric: ControlFabric, policy: Policy, algorithm: SelectorAlgorithm? = nil, seed: UInt64, interval: Double? = nil,
                selector: (any PathSelector)? = nil) {
        self.fabric = fabric
        self.policy = policy
        self.seed = seed
        self.interval = interval ?? policy.controlInterval
        self.selector = selector ?? ElephantControl.makeSelector(algorithm ?? policy.algorithm, seed: seed)
        stability = StabilityState(smoothing: policy.smoothing, holdTime: policy.holdTime)
        programmer = FabricProgrammer(topology: fabric.topology, config: ProgrammingConfig(policy: policy))
        enumerator = PathEnumerator(topology: fabric.topology, routing: fabric.routing, hostSwitch: fabric.hostSwitch)
        // The routing table's path counts: worked out now, once per topology, not in the first round.
        fabric.routing.prepareCandidatePaths()
    }

    static func makeSelector(_ a: SelectorAlgorithm, seed: UInt64) -> any PathSelector {
        switch a {
        case .tusk: TuskSelector(seed: seed)
        case .gff: GlobalFirstFit()
        case .ecmp: NoMoves()
        }
    }

    /// The selector's name (`tusk`, `gff`, `ecmp`).
    public var algorithm: String { selector.name }

    /// A new policy, from the next round on. Pins, holds and smoothed inputs are kept; the selector is
    /// rebuilt only when the algorithm changes. Entries already installed keep their priority and
    /// timeout until they are next written.
    public mutating func update(policy new: Policy, interval: Double? = nil) {
        if new.algorithm != policy.algorithm { selector = ElephantControl.makeSelector(new.algorithm, seed: seed) }
        stability.smoothing = min(1, max(0, new.smoothing))
        stability.holdTime = new.holdTime
        programmer.config = ProgrammingConfig(policy: new)
        programmingChanged = true
        policy = new
        self.interval = interval ?? new.controlInterval
    }

    // MARK: Inputs a daemon has

    /// FLOW_REMOVED after an idle or hard timeout: the placement has ended (nothing to send).
    public mutating func flowRemoved(_ key: FlowKey) {
        adoptedAt[key] = nil
        programmer.expire(key)
        stability.forget(key)
    }

    /// A port went down (PORT_STATUS, or link down): both directions of its link are out of use until
    /// `portUp`. Returns false when the port is not a fabric port of the topology.
    @discardableResult
    public mutating func portDown(dpid: UInt64, port: UInt32) -> Bool {
        guard let d = directedLink(dpid: dpid, port: port) else { return false }
        downLinks.insert(d.index)
        downLinks.insert(d.reversed.index)
        return true
    }

    @discardableResult
    public mutating func portUp(dpid: UInt64, port: UInt32) -> Bool {
        guard let d = directedLink(dpid: dpid, port: port) else { return false }
        downLinks.remove(d.index)
        downLinks.remove(d.reversed.index)
        return true
    }

    /// The directed link a switch port transmits on.
    public func directedLink(dpid: UInt64, port: UInt32) -> DirectedLinkID? {
        guard let s = fabric.topology.switchID(dpid: dpid), let p = fabric.topology.port(PortRef(s, port)) else { return nil }
        return p.egress
    }

    /// Pins whose path crosses a link that is down.
    public var pinsOnDownLinks: [FlowKey] {
        guard !downLinks.isEmpty else { return [] }
        return programmer.pins.filter { $0.path.links.contains { downLinks.contains($0.index) } }.map(\.key)
    }

    /// A batch that carried a flow's entries was refused or lost: the placement failed. The flow goes
    /// back to ECMP (the returned entries are what the switches may still hold of it: delete them) and
    /// may be placed again in a later round, without waiting for its hold time.
    public mutating func placementFailed(_ key: FlowKey) -> [ElephantEntry] {
        stability.forget(key)
        recentMoves.removeAll { k, _ in k == key }
        return programmer.withdraw(key)
    }

    /// Adopts placements that switches still hold (after a controller restart): each flow's `TS`
    /// entries, by datapath id and output port, become its pin when they describe one path of the
    /// topology from its source to its destination host. Returns the flows adopted and the entries
    /// that could not be (to be strict-deleted).
    public mutating func adopt(_ held: [FlowKey: [(dpid: UInt64, outPort: UInt32)]], at t: Double) -> (adopted: [FlowKey], stale: [FlowKey]) {
        var adopted: [FlowKey] = [], stale: [FlowKey] = []
        let topo = fabric.topology
        for (key, entries) in held.sorted(by: { $0.key < $1.key }) {
            guard let src = topo.hostsByAddress[key.src], let dst = topo.hostsByAddress[key.dst], src != dst else {
                stale.append(key)
                continue
            }
            var out: [SwitchID: UInt32] = [:]
            for e in entries { if let s = topo.switchID(dpid: e.dpid) { out[s] = e.outPort } }
            // Walk from the source: where the switch has a choice, its entry says which way.
            var links: [DirectedLinkID] = [topo.uplink(of: src)]
            var s = SwitchID(Int(fabric.hostSwitch[src.index]))
            let target = SwitchID(Int(fabric.hostSwitch[dst.index]))
            var ok = true, hops = 0
            while s != target, hops < 64 {
                let next = fabric.routing.nextHops(at: s, toward: target)
                let pick: (egress: DirectedLinkID, neighbour: SwitchID)?
                if next.count == 1 {
                    pick = next.first
                } else if let port = out[s], let p = topo.port(PortRef(s, port)) {
                    pick = next.first { $0.egress == p.egress }
                } else {
                    pick = nil
                }
                guard let pick else { ok = false; break }
                links.append(pick.egress)
                s = pick.neighbour
                hops += 1
            }
            links.append(topo.downlink(of: dst))
            let path = Path(links)
            guard ok, s == target else {
                stale.append(key)
                continue
            }
            let pin = Pin(key: key, dst: dst, path: path, demand: 0, priority: policy.classify(key).priority)
            // The held entries must be exactly the pin's: no more switches, same ports.
            let want = programmer.entries(for: key, path: path, dst: dst)
            let same = want.count == entries.count
                && want.allSatisfy { w in entries.contains { $0.dpid == w.dpid && $0.outPort == w.outPort } }
            guard same, programmer.adopt(pin) else {
                stale.append(key)
                continue
            }
            adoptedAt[key] = t
            adopted.append(key)
        }
        return (adopted, stale)
    }

    // MARK: The round

    /// One control round at analytics time `t`. `analytics` must have been evaluated at `t`.
    public mutating func round(_ analytics: FlowAnalytics, at t: Double) -> RoundResult {
        rounds += 1
        let topo = fabric.topology
        var result = RoundResult(time: t)

        // Link loads, per directed link, from sFlow (counters and samples), both ends averaged.
        let n = fabric.directedLinkCount
        var load = [Double](repeating: 0, count: n)
        var seen = [UInt8](repeating: 0, count: n)
        // Every switch port's slot in the analytics, looked up again only when the analytics' port
        // index changed.
        let generation = analytics.portSlotGeneration
        // Path inference's links by slot are learnt here too, for every port whose slot says it is
        // that port (the same answer a report's port gives below, one lookup per port rather than
        // two per port and direction, 80,000 in a first round at k=32; a port mapped anew gets its
        // new link). Ports without a slot yet are learnt from the reports, when they appear.
        if linkOfSlot.instance != generation.instance { linkOfSlot = (generation.instance, [], []) }
        if portSlots.generation != generation {
            // The lookups (three hashed ones per port: 40,960 ports at k=32, in every first round)
            // on two threads, half of the switches each; the halves joined in order.
            let switches = topo.switchIDs
            func lookUp(_ range: Range<Int>) -> [(slot: Int32, egress: DirectedLinkID, own: Bool)] {
                var found: [(slot: Int32, egress: DirectedLinkID, own: Bool)] = []
                for s in switches[range] {
                    let dpid = topo[s].dpid
                    for p in topo.ports(of: s) {
                        guard let (id, named) = analytics.portSlotNamed(dpid: dpid, port: p.number) else { continue }
                        found.append((id, p.egress, named))
                    }
                }
                return found
            }
            var first: [(slot: Int32, egress: DirectedLinkID, own: Bool)] = [], second = first
            let half = switches.count / 2
            if switches.count >= parallelPortsFrom {
                inParallel({ first = lookUp(0..<half) }, { second = lookUp(half..<switches.count) })
            } else {
                first = lookUp(0..<switches.count)
            }
            var slots: [(slot: Int32, egress: DirectedLinkID)] = []
            slots.reserveCapacity(first.count + second.count)
            for found in [first, second] {
                for (id, egress, own) in found {
                    slots.append((id, egress))
                    guard own else { continue }
                    growLinkOfSlot(to: Int(id))
                    linkOfSlot.input[Int(id)] = Int32(egress.reversed.index)
                    linkOfSlot.output[Int(id)] = Int32(egress.index)
                }
            }
            // Read in slot order: the analytics keep their ports' state by slot, 200 bytes each (8 MB
            // at k=32), and read in switch order they were a cache miss each. The order of the sums
            // is not changed by it: a directed link has two terms at most (what its source port
            // sent, what its far port received), and two terms added to zero give the same sum in
            // either order.
            slots.sort { $0.slot < $1.slot }
            portSlots = (generation, slots)
        }
        for (id, egress) in portSlots.slots {
            let r = analytics.rates(slot: id, at: t)
            load[egress.index] += r.outBps
            seen[egress.index] += 1
            load[egress.reversed.index] += r.inBps
            seen[egress.reversed.index] += 1
        }
        for i in 0..<n where seen[i] > 1 { load[i] /= Double(seen[i]) }
        stability.smooth(links: &load)

        // Pins whose flow has gone quiet have timed out on the switches.
        // (Each pin's outcome depends on its flow alone, so they are read in the table's own order.)
        // (Adopted pins are few and rare: with none, nothing here looks them up.)
        // A flow's last sighting only moves on while the analytics keep tracking it: when they have
        // dropped no flow and changed no setting since every pin was looked up, and the oldest
        // sighting of a pinned flow is within the idle timeout, so is every other, and no pin is
        // looked up (8,192 lookups a round at k=32).
        let anyAdopted = !adoptedAt.isEmpty
        let tracking = analytics.trackingGeneration
        if anyAdopted || pinsSeen?.generation != tracking || !(t - pinsSeen!.oldest <= policy.idleTimeout) {
            var oldest = Double.infinity, bounded = true
            for key in programmer.installed.keys {
                let lastSeen = analytics.lastSeen(key)
                // An adopted pin whose flow the analytics have not seen yet (they start empty after a
                // restart) is kept until its entries would have idled out on the switches.
                if anyAdopted {
                    if lastSeen == nil, let at = adoptedAt[key], t - at <= policy.idleTimeout + 2 * policy.smoothingTime {
                        bounded = false
                        continue
                    }
                    adoptedAt[key] = nil
                }
                if let lastSeen, !(t - lastSeen > policy.idleTimeout) {
                    oldest = min(oldest, lastSeen)
                } else {
                    programmer.expire(key)
                    stability.forget(key)
                }
            }
            pinsSeen = bounded ? (tracking, oldest) : nil
        }

        // Elephants, with their hosts, paths and candidates.
        // (The ports a flow was seen on are read only for flows without a pin: they give its path.
        // With no pin at all, the reports give them; else they are asked for below, flow by flow,
        // once the pins are looked up: the reports asking for them looked every elephant up among
        // the pins a second time.)
        let nothingPinned = programmer.installed.isEmpty
        let reports = analytics.elephants(at: t, links: nothingPinned)
        var keys: [FlowKey] = [], hosts: [(HostID, HostID)] = [], rawRates: [(FlowKey, Double)] = []
        var errors: [Double] = []
        var currents: [Path?] = [], pinned: [Bool] = []
        // The demand each pinned elephant's pin was installed with (NaN when not pinned): a round
        // whose demands all match changes no pin (see `quiet`).
        var pinDemand: [Double] = []
        keys.reserveCapacity(reports.count)
        hosts.reserveCapacity(reports.count)
        rawRates.reserveCapacity(reports.count)
        errors.reserveCapacity(reports.count)
        currents.reserveCapacity(reports.count)
        pinned.reserveCapacity(reports.count)
        pinDemand.reserveCapacity(reports.count)
        result.elephants.reserveCapacity(reports.count)
        var picked: [FlowAnalytics.FlowReport] = []
        picked.reserveCapacity(reports.count)
        // No moves on stale data: an elephant not sampled for a few rounds has stopped, or its samples
        // stopped coming; its estimate only decays. (Its placement is kept until its entries idle out.)
        let staleAfter = max(2, 3 * interval)
        let hostsByAddress = topo.hostsByAddress
        for r in reports {
            guard t - r.lastSeen <= staleAfter else { continue }
            guard let src = hostsByAddress[r.key.src], let dst = hostsByAddress[r.key.dst], src != dst else { continue }
            keys.append(r.key)
            hosts.append((src, dst))
            rawRates.append((r.key, r.bps))
            errors.append(r.bps * r.errorPercent / 100)
            picked.append(r)
            if let at = programmer.installed.index(forKey: r.key) {
                let pin = programmer.pathAndDemand(at: at)
                currents.append(pin.path)
                pinDemand.append(pin.demand)
                pinned.append(true)
            } else {
                let seen = nothingPinned ? (links: r.links, slots: r.linkSlots) : analytics.links(of: r.key, at: t)
                currents.append(inferPath(src: src, dst: dst, links: seen.links, slots: seen.slots, analytics: analytics))
                pinDemand.append(.nan)
                pinned.append(false)
            }
        }
        let rates = stability.smooth(rates: rawRates)
        let demandFlows = hosts.map { DemandFlow(src: $0.0.index, dst: $0.1.index) }
        let demands: [Double]
        if demandFlows == demandCache.flows {
            demands = demandCache.demands
        } else {
            let hostCapacity = fabric.hostCapacity
            demands = DemandEstimator.estimate(demandFlows, senderCapacity: { hostCapacity[$0] }, receiverCapacity: { hostCapacity[$0] })
            demandCache = (demandFlows, demands)
        }
        // A link that is down: nothing may be placed on it, and whatever uses it must move.
        let capacity = fabric.capacities
        if !downLinks.isEmpty {
            for i in downLinks { load[i] = max(load[i], 0) + 10 * capacity[i] }
        }
        var elephants: [ElephantFlow] = []
        elephants.reserveCapacity(keys.count)
        pairsUsed = 0
        defer {
            // Pairs no elephant used this round are forgotten.
            if pairsUsed < pathsInUse.count { pathsInUse = pathsInUse.filter { $0.value.round == rounds } }
        }
        for i in keys.indices {
            let (src, dst) = hosts[i]
            let rule = policy.classify(keys[i])
            var cands = candidates(src, dst, hosts: topo.hosts.count)
            var movable = !rule.excluded && !stability.isHeld(keys[i], at: t)
            if !downLinks.isEmpty {
                cands = CandidatePaths(cands.filter { !$0.links.contains { downLinks.contains($0.index) } })
                if let c = currents[i], c.links.contains(where: { downLinks.contains($0.index) }) { movable = !rule.excluded }
            }
            elephants.append(ElephantFlow(key: keys[i], src: src, dst: dst, rate: rates[i], demand: demands[i], current: currents[i],
                                          candidates: cands, priority: rule.priority,
                                          movable: movable, rateError: errors[i]))
            result.elephants.append(RoundElephant(key: keys[i], src: src, dst: dst, rate: rates[i], measuredBps: picked[i].bps,
                                                  errorPercent: picked[i].errorPercent, current: currents[i],
                                                  pinned: pinned[i], firstSeen: picked[i].firstSeen,
                                                  demand: demands[i]))
        }
        // Measurement lag after a move: link loads take a few seconds to show a flow gone from its
        // old links and arrived on its new ones. Until then the expected part of the lag is taken
        // out (old links) and put in (new links), fading with the time the link loads take: a
        // port's load is its last counter rate (a polling interval old at most) plus what its
        // samples saw since, so a move shows in full after one polling interval, not after the
        // flow estimates' time constant; then the selector's own smoothing. (With the estimators'
        // time constant in place of the polling interval, the compensation outlived the lag, put
        // phantom load on the links flows had moved to and phantom room on those they had left, and
        // a k=16 bijection still moved about 20 flows in its second half.)
        let lagTau = policy.pollingInterval + interval * (1 - policy.smoothing) / max(policy.smoothing, 0.01)
        recentMoves.removeAll { _, time in t - time > 5 * lagTau }
        recentMoves.forEach { time, rate, links in
            let w = rate * exp(-(t - time) / lagTau)
            for x in links {
                if x < 0 { load[Int(~x)] -= w } else { load[Int(x)] += w }
            }
        }
        let input = SelectionInput(time: t, flows: elephants, load: load, capacity: capacity)
        let selection = selector.select(input, rules: policy.stabilityRules(topo.hosts.count))
        result.skipped = selection.skipped
        result.rearranging = selection.rearranging

        // Desired pins: what is installed (demands refreshed), with this round's moves applied. Pins
        // the policy now excludes, or all of them when the policy moves nothing, are withdrawn.
        let keepsPins = policy.algorithm != .ecmp
        // The common case first: no move, no new settings, no link down, and every pin kept with the
        // same demand. Then the desired pins are the installed ones, and the plan is empty: neither
        // is built (8,192 pins at k=32).
        // (A pinned elephant's demand is compared with its pin's; the pins of other flows keep theirs.)
        let decisions = selection.decisions
        let quiet = !programmingChanged && decisions.isEmpty && keepsPins && downLinks.isEmpty
            && zip(demands, pinDemand).allSatisfy { d, pin in pin.isNaN || d == pin }
            && (!policy.excludes || programmer.installed.keys.allSatisfy { !policy.classify($0).excluded })
        // For each decided flow, where it is among the elephants (its first entry; -1: none) and its
        // first decision: found by one pass over the elephants with the decisions' keys, not by
        // indexing every elephant (65,536 at k=64). Elephants and decisions are read in place, a
        // field at a time, by index (a copy of either retains and releases its paths).
        var decided: [FlowKey: (flow: Int, decision: Int)] = [:]
        if !decisions.isEmpty {
            decided.reserveCapacity(decisions.count)
            for j in decisions.indices where decided.index(forKey: decisions[j].key) == nil { decided[decisions[j].key] = (-1, j) }
            for i in elephants.indices {
                if let at = decided.index(forKey: elephants[i].key), decided.values[at].flow < 0 { decided.values[at].flow = i }
            }
        }
        // The pins of the moved flows (the last decision for a key counts).
        var moved: [FlowKey: Pin] = [:]
        moved.reserveCapacity(decisions.count)
        for j in decisions.indices {
            let key = decisions[j].key
            guard let i = decided[key]?.flow, i >= 0 else { continue }
            moved[key] = Pin(key: key, dst: elephants[i].dst, path: decisions[j].to, demand: elephants[i].demand, priority: elephants[i].priority)
        }
        var programmed: ProgrammingPlan?
        if quiet {
            programmed = ProgrammingPlan()
        } else if keepsPins && !policy.excludes && downLinks.isEmpty && !programmingChanged {
            // Every pin is kept: the programmer changes those whose demand or path changed, and
            // the others are not looked at (8,192 pins at k=32 for a few dozen moves; rebuilding
            // and ordering them all took 11 to 20 ms of a moving round). It declines when a switch
            // would go over its table budget, and the whole set is programmed below.
            // (The analytics report each flow once: a key is listed at most once here.)
            var demandUpdates: [(key: FlowKey, demand: Double)] = []
            for i in keys.indices where pinned[i] && demands[i] != pinDemand[i] { demandUpdates.append((keys[i], demands[i])) }
            programmed = programmer.update(demands: demandUpdates, pins: Array(moved.values))
        }
        if programmed == nil {
            // Each elephant's demand by key (the last entry of a key listed twice), for the pins.
            let demandOf = Dictionary(zip(keys, demands), uniquingKeysWith: { _, last in last })
            // (In the table's own order: `program` orders the pins itself, and nothing else here depends on it.)
            var desired: [FlowKey: Pin] = [:]
            for (_, installed) in programmer.installed {
                let pin = installed.pin
                if !keepsPins || policy.classify(pin.key).excluded { continue }
                var p = pin
                if let d = demandOf[p.key] { p.demand = d }
                desired[p.key] = p
            }
            for (key, pin) in moved { desired[key] = pin }
            // A pin still on a dead link after selection goes back to ECMP (the SELECT groups skip dead ports).
            if !downLinks.isEmpty {
                for (k, p) in desired where p.path.links.contains(where: { downLinks.contains($0.index) }) {
                    desired[k] = nil
                    result.withdrawn.append(k)
                }
                result.withdrawn.sort()
            }
            // Nothing to change (no move, every pin as installed, with the same demand and priority, and
            // the same table settings): the plan would be empty, and is not computed (8,192 pins at k=32).
            let unchanged = !programmingChanged && decisions.isEmpty && desired.count == programmer.installed.count
                && desired.allSatisfy { programmer.installed[$0.key]?.pin == $0.value }
            programmed = unchanged ? ProgrammingPlan() : programmer.program(Array(desired.values))
        }
        let plan = programmed!
        programmingChanged = false
        result.plan = plan
        // Flows pinned anew (every new pin is among the pinned): their sightings join the bound.
        if var seen = pinsSeen {
            var known = true
            for (key, _) in plan.pinned {
                guard let i = decided[key]?.flow, i >= 0 else {
                    known = false
                    break
                }
                seen.oldest = min(seen.oldest, picked[i].lastSeen)
            }
            pinsSeen = known ? seen : nil
        }

        // (`result.elephants` is in the elephants' order.)
        var after = load
        result.decisions.reserveCapacity(plan.pinned.count)
        // (One list of differing links for every decision, and each decision's changes made at their
        // size: arrays grown one link at a time were several allocations per move, 7,900 moves in a
        // first k=32 round.)
        var differing: [DirectedLinkID] = []
        stability.reserveMoves(plan.pinned.count)
        for (key, path) in plan.pinned {
            guard let (i, first) = decided[key] else { continue }
            let d = decisions[first]
            let rate = i >= 0 ? elephants[i].rate : 0
            if let from = d.from, i >= 0 { recentMoves.append(key: key, time: t, rate: rate, from: from, to: path) }
            stability.recordMove(key, at: t)
            // The links of one path and not the other, in link order. (A path's few links: arrays
            // searched, not sets hashed, for each of the 7,745 moves of a first k=32 round.)
            let old = d.from?.links ?? [], new = path.links
            differing.removeAll(keepingCapacity: true)
            for l in old where !new.contains(l) && !differing.contains(l) { differing.append(l) }
            for l in new where !old.contains(l) && !differing.contains(l) { differing.append(l) }
            differing.sort()
            var changes: [LinkChange] = []
            changes.reserveCapacity(differing.count)
            for l in differing {
                after[l.index] += new.contains(l) ? rate : -rate
                changes.append(LinkChange(link: l, before: load[l.index] / max(capacity[l.index], 1), after: 0))
            }
            result.decisions.append(RoundDecision(decision: d, measuredBps: i >= 0 ? result.elephants[i].measuredBps : 0,
                                                  errorPercent: i >= 0 ? result.elephants[i].errorPercent : 0,
                                                  firstSeen: i >= 0 ? result.elephants[i].firstSeen : t, links: changes))
        }
        // Before/after figures for the links the decisions touched: both from the final prediction.
        for i in result.decisions.indices {
            for j in result.decisions[i].links.indices {
                let l = result.decisions[i].links[j].link.index
                // Measured loads lag (counters every polling interval): a prediction never goes below empty.
                result.decisions[i].links[j].after = max(0, after[l]) / max(capacity[l], 1)
            }
        }
        result.load = load
        // (The topology's links read once, not through `self` for each of 49,152 directed links at k=32.)
        let links = fabric.topology.links, anyDown = !downLinks.isEmpty
        for i in 0..<n where links[i >> 1].isHostLink == false && capacity[i] > 0 && !(anyDown && downLinks.contains(i)) {
            result.peakBefore = max(result.peakBefore, load[i] / capacity[i])
            result.peakAfter = max(result.peakAfter, max(0, after[i]) / capacity[i])
        }
        return result
    }

    private mutating func candidates(_ src: HostID, _ dst: HostID, hosts: Int) -> CandidatePaths {
        // Small fabrics keep every pair's paths. Large ones (k=32: 256 paths for each of 8,192 pairs)
        // keep the pairs of the elephants (`pathsInUse`), from one round to the next: a pair is
        // enumerated when it first carries an elephant, and forgotten after a round in which it
        // carries none.
        // The selector knows a pair's candidates by this array's storage and keeps its own tables
        // for them as long as they are the same.
        let key = src.index * hosts + dst.index
        if hosts <= 1024 {
            if let p = pathCache[key] { return p }
            let p = enumerator.candidates(from: src, to: dst)
            pathCache[key] = p
            return p
        }
        if let i = pathsInUse.index(forKey: key) {
            if pathsInUse.values[i].round != rounds {
                pathsInUse.values[i].round = rounds
                pairsUsed += 1
            }
            return pathsInUse.values[i].paths
        }
        let p = enumerator.candidates(from: src, to: dst)
        pathsInUse[key] = (p, rounds)
        pairsUsed += 1
        return p
    }

    /// Makes room in `linkOfSlot` for slot `slot` (-1: not learnt).
    private mutating func growLinkOfSlot(to slot: Int) {
        guard slot >= linkOfSlot.input.count else { return }
        let more = max(slot + 1, 2 * linkOfSlot.input.count) - linkOfSlot.input.count
        linkOfSlot.input += repeatElement(-1, count: more)
        linkOfSlot.output += repeatElement(-1, count: more)
    }

    /// The path of an unpinned flow, from the ports its samples were seen on: at each switch with a
    /// choice, the next hop whose link the flow was seen crossing. Nil until every choice is seen.
    /// `slots`: the same links by the analytics' port slots (`FlowReport.linkSlots`).
    private mutating func inferPath(src: HostID, dst: HostID, links: [FlowLink], slots: [Int32], analytics: FlowAnalytics) -> Path? {
        let topo = fabric.topology
        // (A path's few links: an array searched beats a set hashed.)
        var observed: [Int] = []
        observed.reserveCapacity(links.count)
        for (l, code) in zip(links, slots) {
            let slot = Int(code >= 0 ? code : ~code)
            growLinkOfSlot(to: slot)
            let known = l.input ? linkOfSlot.input[slot] : linkOfSlot.output[slot]
            if known >= 0 {
                observed.append(Int(known))
                continue
            }
            // Only known ports are remembered: an ifIndex is unknown until its first counter sample.
            if let id = analytics.ports[l.port], let dpid = id.datapathId, let pn = id.portNo,
               let s = topo.switchID(dpid: dpid), let port = topo.port(PortRef(s, pn)) {
                let d = l.input ? port.egress.reversed.index : port.egress.index
                if l.input { linkOfSlot.input[slot] = Int32(d) } else { linkOfSlot.output[slot] = Int32(d) }
                observed.append(d)
            }
        }
        var links: [DirectedLinkID] = [topo.uplink(of: src)]
        var s = SwitchID(Int(fabric.hostSwitch[src.index]))
        let target = SwitchID(Int(fabric.hostSwitch[dst.index]))
        var guardHops = 0
        while s != target, guardHops < 64 {
            guard let pick = fabric.routing.nextHop(at: s, toward: target, choosing: { observed.contains($0.index) }) else { return nil }
            links.append(pick.egress)
            s = pick.neighbour
            guardHops += 1
        }
        links.append(topo.downlink(of: dst))
        return Path(links)
    }
}
