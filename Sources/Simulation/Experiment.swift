// A comparison: every workload × seed × scheduler on one topology. The flows of a (workload, seed)
// are generated once and given to every scheduler, so per-flow comparisons line up.
import Topology

public struct Experiment: Sendable {
    public var topology: Topology
    public var workloads: [Workload]
    public var schedulers: [String]
    public var seeds: [UInt64]
    public var config: SimulationConfig
    public var timing: ControlTiming
    public var catalog: SchedulerCatalog

    public init(topology: Topology, workloads: [Workload], schedulers: [String], seeds: [UInt64],
                config: SimulationConfig = SimulationConfig(), timing: ControlTiming = ControlTiming(),
                catalog: SchedulerCatalog = .builtIn) {
        self.topology = topology
        self.workloads = workloads
        self.schedulers = schedulers
        self.seeds = seeds
        self.config = config
        self.timing = timing
        self.catalog = catalog
    }

    public var runCount: Int { workloads.count * seeds.count * schedulers.count }

    /// The flows of one workload for one seed (independent of the scheduler).
    public func flows(_ w: Workload, seed: UInt64) -> [FlowSpec] {
        var rng = Xoshiro256(seed: seed).fork(0x5EED_F10E)
        return w.flows(on: topology, duration: config.duration, rng: &rng)
    }

    /// Runs everything in a fixed order (workload, seed, scheduler). `progress` gets the index of
    /// the run, the total, a label, and the fraction of the current run done.
    public func run(progress: ((_ run: Int, _ of: Int, _ label: String, _ fraction: Double) -> Void)? = nil) -> ResultSet {
        let network = SimNetwork(topology)
        var results: [RunResult] = []
        var index = 0
        for w in workloads {
            for seed in seeds {
                let flows = self.flows(w, seed: seed)
                for name in schedulers {
                    guard let scheduler = catalog.make(name, seed: seed, timing: timing) else { continue }
                    let label = "\(w) \(name) seed \(seed)"
                    var sim = Simulator(network: network, flows: flows, scheduler: scheduler, config: config)
                    let i = index
                    var r = sim.run(progress: progress.map { p in { f in p(i, self.runCount, label, f) } })
                    r.workload = w.description
                    r.seed = seed
                    results.append(r)
                    index += 1
                }
            }
        }
        return ResultSet(topology: topology.name, hostCapacity: topology.hosts.first.map { Double($0.capacity) } ?? 0,
                         duration: config.duration, windowStart: config.windowStart,
                         workloads: workloads.map(\.description), schedulers: schedulers, seeds: seeds,
                         results: results,
                         linkNames: (0..<network.directedLinkCount).map { d in
                             let e = topology.ends(of: DirectedLinkID(d))
                             return topology.describe(e.from) + ">" + topology.describe(e.to)
                         },
                         switchNames: topology.switches.map(\.name))
    }
}

/// All the results of an experiment, with what is needed to present them.
public struct ResultSet: Sendable {
    public var topology: String
    /// Capacity of a host link, bits/s (sets the absolute margin of "about the same").
    public var hostCapacity: Double
    public var duration: Double
    public var windowStart: Double
    public var workloads: [String]
    public var schedulers: [String]
    public var seeds: [UInt64]
    public var results: [RunResult]
    /// `from>to` for each directed link (`switch:port` or host name), for per-link figures.
    public var linkNames: [String] = []
    public var switchNames: [String] = []

    public func results(workload: String, scheduler: String) -> [RunResult] {
        results.filter { $0.workload == workload && $0.scheduler == scheduler }
    }

    public func result(workload: String, scheduler: String, seed: UInt64) -> RunResult? {
        results.first { $0.workload == workload && $0.scheduler == scheduler && $0.seed == seed }
    }
}
