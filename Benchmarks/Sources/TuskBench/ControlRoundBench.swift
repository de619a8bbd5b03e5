// Cost of one control round (analytics evaluation, selection, programming plan: `ElephantControl`,
// the code the daemon runs) on a k=16 and a k=32 fat-tree bijection, every host sending one flow at
// host rate, with sampled measurements: the closed-loop simulator feeds synthetic sFlow (1-in-1000,
// counters every second) into the real analytics. Two CPU times per round: the round itself
// (analytics evaluation, selection and plan, timed inside the scheduler with an injected CPU clock),
// and the whole `control` call, which also exports the interval's synthetic samples into the
// analytics (what a daemon spends on its event loop as datagrams arrive). Parts of both run on two
// threads, so CPU time is the process's (both cores' sum); the round's wall time is given beside
// it. Nothing else runs in the process while a round does. Decisions are the same on
// every run (seeded); only the time varies. TUSK_BENCH_K=64 runs a k=64 fabric alone (one run of
// 8 rounds: minutes and gigabytes).
//
// The same loop runs in the same process with two other selectors, as references: `gff` (Hedera's
// Global First Fit, on the same measured demands) and `ecmp` (a selector that never moves anything:
// what the loop costs with no selection at all, its floor: the measurements read, the elephant list
// built, every path inferred from where the flow was sampled, since nothing is pinned).
// TUSK_BENCH_REFERENCES=0 leaves them out.
import Foundation
import PathSelection
import Simulation
import Topology

/// Times every `control` call of a scheduler in process CPU time.
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
        let c0 = processCPUNanos()
        let out = inner.control(view)
        roundNanos.append(processCPUNanos() - c0)
        return out
    }
}

func controlRoundBench() {
    let env = ProcessInfo.processInfo.environment
    let only = env["TUSK_BENCH_K"].flatMap(Int.init)
    // TUSK_BENCH_SECONDS: a shorter run (for a profile of the first rounds only).
    let limit = env["TUSK_BENCH_SECONDS"].flatMap(Double.init)
    // k=64 (65,536 elephants) only when asked for by TUSK_BENCH_K=64, and one run: it takes minutes.
    for (k, full) in [(16, 12.0), (32, 8.0), (64, 8.0)] where only == k || (only == nil && k < 64) {
        let seconds = limit ?? full
        let repeats = k >= 64 ? 1 : 3
        let t = try! Topology.fatTree(k: k)
        let exp = Experiment(topology: t, workloads: [.bijection], schedulers: [], seeds: [1],
                             config: SimulationConfig(duration: seconds, measureFrom: seconds / 2))
        let flows = exp.flows(.bijection, seed: 1)
        // One selector's rounds: CPU ns of the round and of the whole `control` call, wall ns, and
        // the times of its moves (the same on every run).
        func measure(_ algorithm: SelectorAlgorithm, runs n: Int) -> (runs: [[UInt64]], whole: [[UInt64]], walls: [[UInt64]], moveTimes: [Double]) {
            var runs: [[UInt64]] = [], whole: [[UInt64]] = [], walls: [[UInt64]] = [], moveTimes: [Double] = []
            for _ in 0..<n {
                var inner = ClosedLoopScheduler(name: algorithm.rawValue, algorithm: algorithm, seed: 1,
                                                timing: ControlTiming(interval: 1, installDelay: 0.005))
                inner.clock = { processCPUNanos() }
                inner.wallClock = { nowNanos() }
                var sim = Simulator(network: SimNetwork(t), flows: flows, scheduler: TimedScheduler(inner: inner), config: exp.config)
                _ = sim.run()
                let timed = sim.scheduler as! TimedScheduler
                let loop = timed.inner as! ClosedLoopScheduler
                runs.append(loop.stats.roundTimes)
                walls.append(loop.stats.roundWallTimes)
                whole.append(timed.roundNanos)
                moveTimes = loop.stats.moveTimes
            }
            return (runs, whole, walls, moveTimes)
        }
        let (runs, whole, walls, moveTimes) = measure(.tusk, runs: repeats)
        let moves = moveTimes.count
        func median(_ r: [[UInt64]], _ i: Int) -> Double {
            let v = r.compactMap { i < $0.count ? Double($0[i]) / 1e6 : nil }.sorted()
            return v.isEmpty ? 0 : v[v.count / 2]
        }
        let n = runs.map(\.count).min() ?? 0
        guard n > 0 else {
            print("k=\(k) bijection: no control round in \(formatNumber(seconds)) s (the first runs at 1 s; TUSK_BENCH_SECONDS must be above 1)")
            continue
        }
        print("k=\(k) bijection, \(t.hosts.count) elephants, \(n) rounds of 1 s, \(moves) moves; CPU ms per round, both cores (median of \(repeats) run\(repeats == 1 ? "" : "s")):")
        var line = "  round: ", line2 = "  round + sFlow export: ", line3 = "  round, wall ms: "
        for i in 0..<n {
            line += "r\(i + 1) \(formatNumber(median(runs, i)))  "
            line2 += "r\(i + 1) \(formatNumber(median(whole, i)))  "
            line3 += "r\(i + 1) \(formatNumber(median(walls, i)))  "
        }
        print(line)
        print(line2)
        print(line3)
        // Moves made by each round (round i runs at time i; the same on every run).
        print("  moves: " + (0..<n).map { i in "r\(i + 1) \(moveTimes.count { abs($0 - Double(i + 1)) < 0.5 })" }.joined(separator: "  "))
        print("  round: first \(formatNumber(median(runs, 0))) ms, second \(formatNumber(median(runs, 1))) ms, settled (last) \(formatNumber(median(runs, n - 1))) ms")
        guard env["TUSK_BENCH_REFERENCES"] != "0" else { continue }
        // The references, on the same flows and measurements, after Tusk's runs.
        for algorithm in [SelectorAlgorithm.gff, .ecmp] {
            let r = measure(algorithm, runs: repeats)
            let m = r.runs.map(\.count).min() ?? 0
            print("  \(algorithm.rawValue) in the same loop, \(r.moveTimes.count) moves: "
                  + (0..<m).map { i in "r\(i + 1) \(formatNumber(median(r.runs, i)))" }.joined(separator: "  ")
                  + "  (wall: " + (0..<m).map { i in "r\(i + 1) \(formatNumber(median(r.walls, i)))" }.joined(separator: "  ") + ")")
        }
    }
}
