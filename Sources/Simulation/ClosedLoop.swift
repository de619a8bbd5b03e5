// The closed loop: Tusk's controller driving the simulated fabric, seeing only what a controller
// sees. The simulated switches emit sFlow (SFlowSynthesizer); it goes through the real
// `FlowAnalytics`, then the selector (`tusk` or `gff`), then `FabricProgrammer`, whose pins the
// simulator applies after the install delay. Nothing here reads the simulator's true rates: the
// segments feed the synthesizer only, and `control` uses the view for its clock alone.
//
// `gff-oracle` is the reference a measurement-based scheme is compared with: Hedera's Global First
// Fit fed with the true flows and their current paths every 5 s.
import FabricProgramming
import FlowAnalytics
import Foundation
import Packets
import PathSelection
import Topology

/// Counts a run leaves behind for the report (moves, elephants, table entries).
public struct ClosedLoopStats: Sendable {
    public var rounds = 0
    public var moves = 0
    /// Distinct flows that were elephants at some round.
    public var elephants = 0
    /// Time of every move, for "no moves after convergence".
    public var moveTimes: [Double] = []
    public var overBudget = 0
    /// Elephant-rounds where the controller's current path differed from the simulator's (diagnostic).
    public var pathErrors = 0
    public var flowMods = 0
    public var peakEntries = 0
    public var samples = 0
    public var datagrams = 0
    /// The last decisions with their reasons (bounded), for logs.
    public var recent: [(time: Double, flow: FlowID, decision: Decision)] = []

    public var movesPerElephant: Double { elephants > 0 ? Double(moves) / Double(elephants) : 0 }
    public func moves(after t: Double) -> Int { moveTimes.filter { $0 > t }.count }
}

/// Path enumeration over the routing table's next hops (cheaper than a search per pair on big fabrics).
struct PathEnumerator {
    let topology: Topology
    let routing: RoutingTable
    let hostSwitch: [Int32]

    func paths(from src: HostID, to dst: HostID) -> [Path] {
        let s = SwitchID(Int(hostSwitch[src.index])), t = SwitchID(Int(hostSwitch[dst.index]))
        var out: [Path] = []
        var stack: [DirectedLinkID] = [topology.uplink(of: src)]
        func walk(_ at: SwitchID, _ depth: Int) {
            if at == t {
                out.append(Path(stack + [topology.downlink(of: dst)]))
                return
            }
            guard depth < 64 else { return }
            for h in routing.nextHops(at: at, toward: t) {
                stack.append(h.egress)
                walk(h.neighbour, depth + 1)
                stack.removeLast()
            }
        }
        walk(s, 0)
        return out
    }
}

public struct ClosedLoopScheduler: FlowScheduler {
    public let name: String
    public let policy: Policy
    public let synthesis: SFlowSynthesisConfig
    public let forwarding: Forwarding
    public let timing: ControlTiming?
    public var observesSegments: Bool { true }
    public private(set) var stats = ClosedLoopStats()

    private let seed: UInt64
    private var selector: any PathSelector
    private var stability: StabilityState
    private var analytics: FlowAnalytics
    private var synth: SFlowSynthesizer?
    private var programmer: FabricProgrammer?
    private var enumerator: PathEnumerator?
    private var network: SimNetwork?
    private var hostByIP: [IPAddress: HostID] = [:]
    private var flowsByKey: [FlowKey: [(start: Double, id: FlowID)]] = [:]
    private var linkOfPort: [FlowLink: Int] = [:]
    private var seenElephants: Set<FlowKey> = []
    private var pathCache: [Int: [Path]] = [:]
    private var recentMoves: [(time: Double, rate: Double, from: Path, to: Path)] = []

    /// - Parameters:
    ///   - algorithm: `.tusk` or `.gff` (`.ecmp` runs the loop but never moves anything).
    ///   - timing: the control interval and install delay (the policy's interval is used by callers
    ///     that build the timing from it).
    public init(name: String, algorithm: SelectorAlgorithm, policy: Policy = Policy(), synthesis: SFlowSynthesisConfig? = nil,
                seed: UInt64, timing: ControlTiming) {
        self.name = name
        self.policy = policy
        self.synthesis = synthesis ?? SFlowSynthesisConfig(samplingRate: policy.samplingRate, pollingInterval: policy.pollingInterval)
        forwarding = ECMPScheduler(seed: seed).forwarding // unpinned flows hash exactly as under plain ECMP
        self.timing = timing
        self.seed = seed
        switch algorithm {
        case .tusk: selector = TuskSelector(seed: seed)
        case .gff: selector = GlobalFirstFit()
        case .ecmp: selector = NoMoves()
        }
        stability = StabilityState(smoothing: policy.smoothing, holdTime: policy.holdTime)
        analytics = FlowAnalytics(config: policy.analyticsConfig)
    }

    public mutating func start(network: SimNetwork, flows: [FlowSpec]) {
        self.network = network
        synth = SFlowSynthesizer(network: network, flows: flows, config: synthesis, seed: seed)
        programmer = FabricProgrammer(topology: network.topology, config: ProgrammingConfig(policy: policy))
        enumerator = PathEnumerator(topology: network.topology, routing: network.routing, hostSwitch: network.hostSwitch)
        for (i, h) in network.topology.hosts.enumerated() {
            hostByIP[.v4(h.ipv4)] = HostID(i)
            if let v6 = h.ipv6 { hostByIP[.v6(v6)] = HostID(i) }
        }
        // The controller addresses flows by 5-tuple; the simulator by index. Several flows may reuse a
        // 5-tuple over a run: the latest one started is the one a key means.
        for (i, f) in flows.enumerated() { flowsByKey[f.key, default: []].append((f.start, i)) }
    }

    public mutating func observe(_ segment: SegmentView) {
        synth?.observe(segment, into: &analytics)
    }

    private func flowID(_ k: FlowKey, at t: Double) -> FlowID? {
        guard let list = flowsByKey[k] else { return nil }
        return list.last(where: { $0.start <= t })?.id ?? list.first?.id
    }

    public mutating func control(_ view: MeasurementView) -> [ControlCommand] {
        guard let network, var programmer, let enumerator else { return [] }
        let t = view.time // the clock only
        synth?.export(at: t, into: &analytics)
        _ = analytics.evaluate(at: t)
        stats.rounds += 1
        let topo = network.topology

        // Link loads, per directed link, from sFlow (counters and samples), both ends averaged.
        let n = network.directedLinkCount
        var load = [Double](repeating: 0, count: n)
        var seen = [UInt8](repeating: 0, count: n)
        for s in topo.switchIDs {
            let dpid = topo[s].dpid
            for p in topo.ports(of: s) {
                guard let r = analytics.load(dpid: dpid, port: p.number, at: t) else { continue }
                load[p.egress.index] += r.outBps
                seen[p.egress.index] += 1
                load[p.egress.reversed.index] += r.inBps
                seen[p.egress.reversed.index] += 1
            }
        }
        for i in 0..<n where seen[i] > 1 { load[i] /= Double(seen[i]) }
        stability.smooth(links: &load)

        // Pins whose flow has gone quiet have timed out on the switches.
        for pin in programmer.pins {
            let report = analytics.flow(pin.key, at: t)
            if report == nil || t - report!.lastSeen > policy.idleTimeout {
                programmer.expire(pin.key)
                stability.forget(pin.key)
            }
        }

        // Elephants, with their hosts, paths and candidates.
        let reports = analytics.flows(at: t).filter(\.elephant)
        var keys: [FlowKey] = [], ids: [FlowID] = [], hosts: [(HostID, HostID)] = [], rawRates: [(FlowKey, Double)] = []
        var errors: [Double] = []
        var currents: [Path?] = []
        for r in reports {
            guard let src = hostByIP[r.key.src], let dst = hostByIP[r.key.dst], src != dst,
                  let id = flowID(r.key, at: t) else { continue }
            keys.append(r.key)
            ids.append(id)
            hosts.append((src, dst))
            rawRates.append((r.key, r.bps))
            errors.append(r.bps * r.errorPercent / 100)
            if let pinned = programmer.installed[r.key] {
                currents.append(pinned.pin.path)
            } else {
                currents.append(inferPath(src: src, dst: dst, links: r.links, network: network))
            }
            seenElephants.insert(r.key)
        }
        stats.elephants = seenElephants.count
        // Instrumentation only (never used for decisions): how often the controller's idea of a
        // flow's path differs from where the simulator sends it.
        var truePath: [FlowID: [Int32]] = [:]
        for f in view.flows { truePath[f.id] = f.path }
        for (i, c) in currents.enumerated() {
            guard let c, let tp = truePath[ids[i]] else { continue }
            if c.links.map({ Int32($0.index) }) != tp { stats.pathErrors += 1 }
        }
        let rates = stability.smooth(rates: rawRates)
        let demands = DemandEstimator.estimate(hosts.map { DemandFlow(src: $0.0.index, dst: $0.1.index) },
                                               senderCapacity: { Double(topo.hosts[$0].capacity) },
                                               receiverCapacity: { Double(topo.hosts[$0].capacity) })
        var elephants: [ElephantFlow] = []
        elephants.reserveCapacity(keys.count)
        var idOf: [FlowKey: FlowID] = [:]
        var demandOf: [FlowKey: Double] = [:]
        for i in keys.indices {
            let (src, dst) = hosts[i]
            let rule = policy.classify(keys[i])
            let cands = candidates(src, dst, enumerator, hosts: topo.hosts.count)
            elephants.append(ElephantFlow(key: keys[i], src: src, dst: dst, rate: rates[i], demand: demands[i], current: currents[i],
                                          candidates: cands, priority: rule.priority,
                                          movable: !rule.excluded && !stability.isHeld(keys[i], at: t), rateError: errors[i]))
            idOf[keys[i]] = ids[i]
            demandOf[keys[i]] = demands[i]
        }
        // Measurement lag after a move: counters and sample estimates take a few seconds to show a
        // flow gone from its old links and arrived on its new ones. Until then the expected part of
        // the lag is taken out (old links) and put in (new links), fading with the estimator's time
        // constant plus the selector's own smoothing.
        let lagTau = policy.smoothingTime + (timing?.interval ?? 1) * (1 - policy.smoothing) / max(policy.smoothing, 0.01)
        recentMoves.removeAll { t - $0.time > 5 * lagTau }
        for m in recentMoves {
            let w = m.rate * exp(-(t - m.time) / lagTau)
            let from = Set(m.from.links), to = Set(m.to.links)
            for l in from.subtracting(to) { load[l.index] -= w }
            for l in to.subtracting(from) { load[l.index] += w }
        }
        let input = SelectionInput(time: t, flows: elephants, load: load, capacity: network.capacities)
        let result = selector.select(input, rules: policy.stabilityRules(topo.hosts.count))

        // Desired pins: what is installed (demands refreshed), with this round's moves applied.
        var desired: [FlowKey: Pin] = [:]
        for pin in programmer.pins {
            var p = pin
            if let d = demandOf[p.key] { p.demand = d }
            desired[p.key] = p
        }
        let byKey = Dictionary(elephants.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for d in result.decisions {
            guard let f = byKey[d.key] else { continue }
            desired[d.key] = Pin(key: d.key, dst: f.dst, path: d.to, demand: f.demand, priority: f.priority)
        }
        let plan = programmer.program(Array(desired.values))
        self.programmer = programmer
        stats.flowMods += plan.changes.count
        stats.overBudget += plan.overBudget.count
        stats.peakEntries = max(stats.peakEntries, programmer.peakEntriesPerSwitch.max() ?? 0)

        var commands: [ControlCommand] = []
        let decisionOf = Dictionary(result.decisions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for (key, path) in plan.pinned {
            guard let id = idOf[key] ?? flowID(key, at: t) else { continue }
            commands.append(.pin(id, path))
            if let d = decisionOf[key] {
                if let from = d.from, let f = byKey[key] { recentMoves.append((t, f.rate, from, path)) }
                stability.recordMove(key, at: t)
                stats.moves += 1
                stats.moveTimes.append(t)
                stats.recent.append((t, id, d))
                if stats.recent.count > 256 { stats.recent.removeFirst(stats.recent.count - 256) }
            }
        }
        for key in plan.unpinned {
            if let id = idOf[key] ?? flowID(key, at: t) { commands.append(.unpin(id)) }
        }
        if let synth {
            stats.samples = synth.samplesSent
            stats.datagrams = synth.datagramsSent
        }
        return commands
    }

    private mutating func candidates(_ src: HostID, _ dst: HostID, _ e: PathEnumerator, hosts: Int) -> [Path] {
        // Small fabrics keep every pair's paths; large ones (k=32: 256 paths for each of 8192 pairs)
        // enumerate them each round instead of holding them all.
        guard hosts <= 1024 else { return e.paths(from: src, to: dst) }
        let key = src.index * hosts + dst.index
        if let p = pathCache[key] { return p }
        let p = e.paths(from: src, to: dst)
        pathCache[key] = p
        return p
    }

    /// The path of an unpinned flow, from the ports its samples were seen on: at each switch with a
    /// choice, the next hop whose link the flow was seen crossing. Nil until every choice is seen.
    private mutating func inferPath(src: HostID, dst: HostID, links: [FlowLink], network: SimNetwork) -> Path? {
        let topo = network.topology
        var observed: Set<Int> = []
        for l in links {
            if let d = linkOfPort[l] {
                if d >= 0 { observed.insert(d) }
                continue
            }
            var d = -1
            if let id = analytics.ports[l.port], let dpid = id.datapathId, let pn = id.portNo,
               let s = topo.switchID(dpid: dpid), let port = topo.port(PortRef(s, pn)) {
                d = l.input ? port.egress.reversed.index : port.egress.index
            }
            // Only known ports are remembered: an ifIndex is unknown until its first counter sample.
            if d >= 0 {
                linkOfPort[l] = d
                observed.insert(d)
            }
        }
        var links: [DirectedLinkID] = [topo.uplink(of: src)]
        var s = SwitchID(Int(network.hostSwitch[src.index]))
        let target = SwitchID(Int(network.hostSwitch[dst.index]))
        var guardHops = 0
        while s != target, guardHops < 64 {
            let hops = network.routing.nextHops(at: s, toward: target)
            guard let pick = hops.count == 1 ? hops.first : hops.first(where: { observed.contains($0.egress.index) }) else { return nil }
            links.append(pick.egress)
            s = pick.neighbour
            guardHops += 1
        }
        links.append(topo.downlink(of: dst))
        return Path(links)
    }
}

/// A selector that never moves anything (the loop's own overhead, measured).
struct NoMoves: PathSelector {
    var name: String { "ecmp" }
    mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult { SelectionResult() }
}

/// Hedera's Global First Fit with perfect knowledge: every `interval` (5 s) it sees the true active
/// flows, their paths and rates, estimates demands from them and places the elephants (flows at
/// 10 % of their host link or more).
public struct OracleGFFScheduler: FlowScheduler {
    public let name: String
    public let policy: Policy
    public let forwarding: Forwarding
    public let timing: ControlTiming?
    public private(set) var stats = ClosedLoopStats()
    private var gff = GlobalFirstFit(name: "gff-oracle")
    private var programmer: FabricProgrammer?
    private var enumerator: PathEnumerator?
    private var seenElephants: Set<FlowID> = []

    public init(name: String = "gff-oracle", policy: Policy = Policy(), seed: UInt64, timing: ControlTiming) {
        self.name = name
        self.policy = policy
        forwarding = ECMPScheduler(seed: seed).forwarding
        self.timing = timing
    }

    public mutating func start(network: SimNetwork, flows: [FlowSpec]) {
        programmer = FabricProgrammer(topology: network.topology, config: ProgrammingConfig(policy: policy))
        enumerator = PathEnumerator(topology: network.topology, routing: network.routing, hostSwitch: network.hostSwitch)
    }

    public mutating func control(_ view: MeasurementView) -> [ControlCommand] {
        guard var programmer, let enumerator else { return [] }
        stats.rounds += 1
        let topo = view.network.topology
        let active = Set(view.flows.map(\.spec.key))
        for pin in programmer.pins where !active.contains(pin.key) { programmer.expire(pin.key) }
        let big = view.flows.filter { f in
            f.rate >= 0.1 * Double(topo.hosts[f.spec.src.index].capacity)
        }
        let demands = DemandEstimator.estimate(big.map { DemandFlow(src: $0.spec.src.index, dst: $0.spec.dst.index) },
                                               senderCapacity: { Double(topo.hosts[$0].capacity) },
                                               receiverCapacity: { Double(topo.hosts[$0].capacity) })
        var elephants: [ElephantFlow] = []
        var idOf: [FlowKey: FlowID] = [:]
        for (i, f) in big.enumerated() {
            seenElephants.insert(f.id)
            idOf[f.spec.key] = f.id
            let rule = policy.classify(f.spec.key)
            elephants.append(ElephantFlow(key: f.spec.key, src: f.spec.src, dst: f.spec.dst, rate: f.rate, demand: demands[i],
                                          current: Path(f.path.map { DirectedLinkID(Int($0)) }),
                                          candidates: enumerator.paths(from: f.spec.src, to: f.spec.dst),
                                          priority: rule.priority, movable: !rule.excluded))
        }
        stats.elephants = seenElephants.count
        let load = view.linkBytes.map { $0 * 8 / max(view.interval, 1e-9) }
        let result = gff.select(SelectionInput(time: view.time, flows: elephants, load: load, capacity: view.network.capacities),
                                rules: StabilityRules(minGain: 0, maxMoves: .max))
        var desired: [FlowKey: Pin] = [:]
        for pin in programmer.pins { desired[pin.key] = pin }
        let byKey = Dictionary(elephants.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for d in result.decisions {
            guard let f = byKey[d.key] else { continue }
            desired[d.key] = Pin(key: d.key, dst: f.dst, path: d.to, demand: f.demand, priority: f.priority)
        }
        let plan = programmer.program(Array(desired.values))
        self.programmer = programmer
        stats.flowMods += plan.changes.count
        stats.peakEntries = max(stats.peakEntries, programmer.peakEntriesPerSwitch.max() ?? 0)
        var commands: [ControlCommand] = []
        for (key, path) in plan.pinned {
            guard let id = idOf[key] else { continue }
            commands.append(.pin(id, path))
            stats.moves += 1
            stats.moveTimes.append(view.time)
        }
        for key in plan.unpinned { if let id = idOf[key] { commands.append(.unpin(id)) } }
        return commands
    }
}

extension SchedulerCatalog {
    /// Registers Tusk's closed-loop schedulers: `tusk`, `gff` (both from sampled sFlow through the
    /// real analytics) and `gff-oracle` (true flows, every 5 s).
    public mutating func registerClosedLoop(policy: Policy = Policy(), synthesis: SFlowSynthesisConfig? = nil) {
        register("tusk") { seed, timing in
            ClosedLoopScheduler(name: "tusk", algorithm: .tusk, policy: policy, synthesis: synthesis, seed: seed, timing: timing)
        }
        register("gff") { seed, timing in
            ClosedLoopScheduler(name: "gff", algorithm: .gff, policy: policy, synthesis: synthesis, seed: seed, timing: timing)
        }
        register("gff-oracle") { seed, timing in
            OracleGFFScheduler(policy: policy, seed: seed, timing: ControlTiming(interval: 5, installDelay: timing.installDelay))
        }
    }

    /// The built-in schedulers and Tusk's.
    public static func withClosedLoop(policy: Policy = Policy(), synthesis: SFlowSynthesisConfig? = nil) -> SchedulerCatalog {
        var c = SchedulerCatalog.builtIn
        c.registerClosedLoop(policy: policy, synthesis: synthesis)
        return c
    }
}
