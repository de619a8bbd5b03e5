// Cost of one control round (analytics evaluation, selection, programming plan: `ElephantControl`,
// the code the daemon runs) on a k=16 and a k=32 fat-tree bijection, every host sending one flow at
// host rate, with sampled measurements: the closed-loop simulator feeds synthetic sFlow (1-in-1000,
// counters every second) into the real analytics, and each round's CPU time is taken around the
// scheduler's `control`. That call also exports the interval's synthetic samples into the analytics
// (the part a daemon spends on its event loop as datagrams arrive), so the figures are an upper
// bound on the round itself. Decisions are the same on every run (seeded); only the time varies.
import Simulation
import Topology

/// Times every `control` call of a scheduler in thread CPU time.
struct TimedScheduler: FlowScheduler {
    var inner: any FlowScheduler
    var roundNanos: [UInt64] = []
    var name: String { inner.name }
    var forwarding: Forwarding { inner.forwarding }
    var timing: ControlTiming? { inner.timing }
    var observesSegments: Bool { inner.observesSegments }
    mutating func start(network: SimNetwork, flows: [FlowSpec]) { inner.start(network: network, flows: flows) }
    mutating func observe(_ segment: SegmentView) { inner.observe(segment) }
    mutating func control(_ view: MeasurementView) -> [ControlCommand] {
        let c0 = threadCPUNanos()
        let out = inner.control(view)
        roundNanos.append(threadCPUNanos() - c0)
        return out
    }
}

func controlRoundBench() {
    for (k, seconds) in [(16, 12.0), (32, 8.0)] {
        let t = try! Topology.fatTree(k: k)
        let exp = Experiment(topology: t, workloads: [.bijection], schedulers: [], seeds: [1],
                             config: SimulationConfig(duration: seconds, measureFrom: seconds / 2))
        let flows = exp.flows(.bijection, seed: 1)
        var runs: [[UInt64]] = []
        var moves = 0
        for _ in 0..<3 {
            let inner = SchedulerCatalog.builtIn.make("tusk", seed: 1, timing: ControlTiming(interval: 1, installDelay: 0.005))!
            var sim = Simulator(network: SimNetwork(t), flows: flows, scheduler: TimedScheduler(inner: inner), config: exp.config)
            _ = sim.run()
            let timed = sim.scheduler as! TimedScheduler
            runs.append(timed.roundNanos)
            moves = (timed.inner as? ClosedLoopScheduler)?.stats.moves ?? 0
        }
        func median(_ i: Int) -> Double {
            let v = runs.compactMap { i < $0.count ? Double($0[i]) / 1e6 : nil }.sorted()
            return v.isEmpty ? 0 : v[v.count / 2]
        }
        let n = runs.map(\.count).min() ?? 0
        print("k=\(k) bijection, \(t.hosts.count) elephants, \(n) rounds of 1 s, \(moves) moves; CPU ms per round (median of 3 runs):")
        var line = "  "
        for i in 0..<n { line += "r\(i + 1) \(formatNumber(median(i)))  " }
        print(line)
        print("  first round \(formatNumber(median(0))) ms, second \(formatNumber(median(1))) ms, settled (last) \(formatNumber(median(n - 1))) ms")
    }
}
