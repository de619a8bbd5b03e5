// The closed loop: Tusk's controller driving the simulated fabric, seeing only what a controller
// sees. The simulated switches emit sFlow (SFlowSynthesizer); it goes through the real
// `FlowAnalytics`, then the control round (`ElephantControl`: the same code the daemon and
// `tusk replay` run), whose pins the simulator applies after the install delay. This adapter only
// maps 5-tuples to the simulator's flow ids and synthesizes sFlow. Nothing here reads the
// simulator's true rates: the segments feed the synthesizer only, and `control` uses the view for
// its clock alone (and for a diagnostic count of path errors).
//
// `gff-oracle` is the reference a measurement-based scheme is compared with: Hedera's Global First
// Fit fed with the true flows and their current paths every 5 s.
import ElephantControl
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
    /// With an injected clock (`ClosedLoopScheduler.clock`): the time of each round's analytics
    /// evaluation, selection and programming plan (sFlow synthesis excluded), in the clock's units.
    public var roundTimes: [UInt64] = []
    /// The same rounds timed by `ClosedLoopScheduler.wallClock`.
    public var roundWallTimes: [UInt64] = []
    /// The last decisions with their reasons (bounded), for logs.
    public var recent: [(time: Double, flow: FlowID, decision: Decision)] = []

    public var movesPerElephant: Double { elephants > 0 ? Double(moves) / Double(elephants) : 0 }
    public func moves(after t: Double) -> Int { moveTimes.filter { $0 > t }.count }
}

public struct ClosedLoopScheduler: FlowScheduler {
    public let name: String
    public let policy: Policy
    public let synthesis: SFlowSynthesisConfig
    public let forwarding: Forwarding
    public let timing: ControlTiming?
    public var observesSegments: Bool { true }
    public private(set) var stats = ClosedLoopStats()
    /// A clock to time each round with (benchmarks inject a CPU-time clock); nil: rounds are not timed.
    public var clock: (@Sendable () -> UInt64)?
    /// A second clock for the same rounds (benchmarks inject wall time: parts of a round run on two threads).
    public var wallClock: (@Sendable () -> UInt64)?
    /// A selector made by the caller, in place of `algorithm`'s (set before the run starts).
    public var selector: (any PathSelector)?

    private let seed: UInt64
    private let algorithm: SelectorAlgorithm
    private var analytics: FlowAnalytics
    private var synth: SFlowSynthesizer?
    /// The control round: the same code the daemon and `tusk replay` run.
    private var control: ElephantControl?
    private var flowsByKey: [FlowKey: [(start: Double, id: FlowID)]] = [:]
    private var seenElephants: Set<FlowKey> = []

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
        self.algorithm = algorithm
        analytics = FlowAnalytics(config: policy.analyticsConfig)
    }

    public mutating func start(network: SimNetwork, flows: [FlowSpec]) {
        synth = SFlowSynthesizer(network: network, flows: flows, config: synthesis, seed: seed)
        control = ElephantControl(fabric: ControlFabric(topology: network.topology, routing: network.routing), policy: policy,
                                  algorithm: algorithm, seed: seed, interval: timing?.interval ?? 1, selector: selector)
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
        // (Taken out, not copied: a copy left in `self.control` would share every table of the round,
        // and the round's first write to each would copy it whole: thousands of pins at k=32.)
        guard var control = control.take() else { return [] }
        let t = view.time // the clock only
        synth?.export(at: t, into: &analytics)
        let began = clock?(), wallBegan = wallClock?()
        _ = analytics.evaluate(at: t)
        stats.rounds += 1
        let round = control.round(analytics, at: t)
        if let clock, let began { stats.roundTimes.append(clock() &- began) }
        if let wallClock, let wallBegan { stats.roundWallTimes.append(wallClock() &- wallBegan) }
        self.control = control

        for e in round.elephants { seenElephants.insert(e.key) }
        stats.elephants = seenElephants.count
        // Instrumentation only (never used for decisions): how often the controller's idea of a
        // flow's path differs from where the simulator sends it.
        var truePath: [FlowID: [Int32]] = [:]
        for f in view.flows { truePath[f.id] = f.path }
        for e in round.elephants {
            guard let c = e.current, let id = flowID(e.key, at: t), let tp = truePath[id] else { continue }
            if c.links.map({ Int32($0.index) }) != tp { stats.pathErrors += 1 }
        }
        stats.flowMods += round.plan.changes.count
        stats.overBudget += round.plan.overBudget.count
        stats.peakEntries = max(stats.peakEntries, control.programmer.peakEntriesPerSwitch.max() ?? 0)

        var commands: [ControlCommand] = []
        for (key, path) in round.plan.pinned {
            guard let id = flowID(key, at: t) else { continue }
            commands.append(.pin(id, path))
        }
        for d in round.decisions {
            guard let id = flowID(d.key, at: t) else { continue }
            stats.moves += 1
            stats.moveTimes.append(t)
            stats.recent.append((t, id, d.decision))
            if stats.recent.count > 256 { stats.recent.removeFirst(stats.recent.count - 256) }
        }
        for key in round.plan.unpinned {
            if let id = flowID(key, at: t) { commands.append(.unpin(id)) }
        }
        if let synth {
            stats.samples = synth.samplesSent
            stats.datagrams = synth.datagramsSent
        }
        return commands
    }
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
        guard let enumerator, var programmer = programmer.take() else { return [] } // (taken: see `ClosedLoopScheduler.control`)
        stats.rounds += 1
        let topo = view.network.topology
        let active = Set(view.flows.map { $0.spec.key })
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
