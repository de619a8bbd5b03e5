// What each of Tusk's selection phases costs in a first round, and what it buys. A first round on
// a fat-tree bijection (k=16 unless TUSK_BENCH_K says otherwise) places every elephant at once: it
// is the largest round a fabric of that size asks for. Tusk's selector runs in the closed loop
// whole, and with its rearranging phases left out one at a time and all together (phase 2, the
// greedy pass, always runs), beside GFF and ECMP in the same loop:
//  - the first round's CPU ms (both cores) and wall ms, median of 3 runs of one round each;
//  - the throughput of 30 s runs (seeds 1 to TUSK_BENCH_SEEDS, 3 unless set) as a fraction of the
//    non-blocking switch's on the same flows, as `tusk simulate --seeds 3 --duration 30` gives it,
//    and the moves per elephant and those in the second half (stability). TUSK_BENCH_SEEDS=0 times
//    the first rounds alone (for a count of their instructions under Valgrind, say).
// The whole selector's figures are those of `tusk simulate --scheduler tusk`: the same flows, the
// same loop, the same seeds.
import Foundation
import PathSelection
import Simulation
import Topology

func selectionPhasesBench() {
    let env = ProcessInfo.processInfo.environment
    let k = env["TUSK_BENCH_K"].flatMap(Int.init) ?? 16
    let seedCount = max(0, env["TUSK_BENCH_SEEDS"].flatMap(Int.init) ?? 3)
    let t = try! Topology.fatTree(k: k)
    let network = SimNetwork(t)
    let timing = ControlTiming(interval: 1, installDelay: 0.005)
    typealias Make = @Sendable (UInt64) -> any PathSelector
    let variants: [(name: String, algorithm: SelectorAlgorithm, make: Make?)] = [
        ("tusk (phases 1-4)", .tusk, nil),
        ("tusk without alternating chains (1)", .tusk, { TuskSelector(seed: $0, alternatingChains: false) }),
        ("tusk without ejection chains (3)", .tusk, { TuskSelector(rearrangeBudget: 0, seed: $0) }),
        ("tusk without local search (4)", .tusk, { TuskSelector(searchBudget: 0, seed: $0) }),
        ("tusk greedy pass alone (2)", .tusk, { TuskSelector(rearrangeBudget: 0, searchBudget: 0, seed: $0, alternatingChains: false) }),
        ("gff", .gff, nil),
        ("ecmp (no selection)", .ecmp, nil),
    ]
    func scheduler(_ v: (name: String, algorithm: SelectorAlgorithm, make: Make?), seed: UInt64) -> ClosedLoopScheduler {
        var s = ClosedLoopScheduler(name: v.algorithm.rawValue, algorithm: v.algorithm, seed: seed, timing: timing)
        s.selector = v.make?(seed)
        return s
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

    // The non-blocking switch on each seed's flows: the reference throughput.
    let quality = SimulationConfig(duration: 30)
    let seeds = (0..<seedCount).map { UInt64($0 + 1) }
    let flowsOf = seeds.map { seed in
        Experiment(topology: t, workloads: [.bijection], schedulers: [], seeds: [seed], config: quality).flows(.bijection, seed: seed)
    }
    let ideal = zip(seeds, flowsOf).map { _, flows in
        var sim = Simulator(network: network, flows: flows, scheduler: NonBlockingScheduler(), config: quality)
        return sim.run().normalizedThroughput
    }
    // The first round alone: a run of 1.5 s (the round runs at 1 s) on seed 1's flows.
    let short = SimulationConfig(duration: 1.5, measureFrom: 0.75)
    let shortFlows = Experiment(topology: t, workloads: [.bijection], schedulers: [], seeds: [1], config: short).flows(.bijection, seed: 1)

    print("k=\(k) bijection, \(t.hosts.count) elephants; first round: CPU ms of both cores and wall ms, median of 3 runs;")
    if seedCount == 0 {
        print("throughput: not measured (TUSK_BENCH_SEEDS=0)")
    } else {
        print("throughput: fraction of the non-blocking switch's, 30 s runs, seeds 1-\(seedCount) (the mean; in brackets each seed's")
        print("normalized throughput, as `tusk simulate` gives it); the non-blocking switch's: "
              + ideal.map { String(format: "%.6f", $0) }.joined(separator: ", ") + ";")
    }
    print("moves per elephant over the run, and moves in its second half")
    print("  " + "selector".padding(toLength: 38, withPad: " ", startingAt: 0) + "first CPU  first wall  throughput                        moves/elephant  late moves")
    var floor: Double?
    for v in variants {
        var cpu: [Double] = [], wall: [Double] = []
        for _ in 0..<3 {
            var s = scheduler(v, seed: 1)
            s.clock = { processCPUNanos() }
            s.wallClock = { nowNanos() }
            var sim = Simulator(network: network, flows: shortFlows, scheduler: s, config: short)
            _ = sim.run()
            let loop = sim.scheduler as! ClosedLoopScheduler
            guard let c = loop.stats.roundTimes.first, let w = loop.stats.roundWallTimes.first else { continue }
            cpu.append(Double(c) / 1e6)
            wall.append(Double(w) / 1e6)
        }
        guard !cpu.isEmpty else {
            print("  \(v.name): no round in \(short.duration) s")
            continue
        }
        var fractions: [Double] = [], raw: [Double] = [], moves = 0, late = 0, elephants = 0
        for (n, seed) in seeds.enumerated() {
            var sim = Simulator(network: network, flows: flowsOf[n], scheduler: scheduler(v, seed: seed), config: quality)
            let r = sim.run()
            raw.append(r.normalizedThroughput)
            fractions.append(r.normalizedThroughput / ideal[n])
            let loop = sim.scheduler as! ClosedLoopScheduler
            moves += loop.stats.moveTimes.count
            late += loop.stats.moves(after: quality.duration / 2)
            elephants += loop.stats.elephants
        }
        let mean = fractions.isEmpty ? .nan : fractions.reduce(0, +) / Double(fractions.count)
        let firstCPU = median(cpu)
        if v.algorithm == .ecmp { floor = firstCPU }
        print("  " + v.name.padding(toLength: 38, withPad: " ", startingAt: 0)
              + String(format: "%9.2f  %9.2f  ", firstCPU, median(wall))
              + String(format: "%.4f (", mean) + raw.map { String(format: "%.6f", $0) }.joined(separator: ", ") + ")"
              + String(format: "  %6.3f  %6d", elephants > 0 ? Double(moves) / Double(elephants) : 0, late))
    }
    if let floor { print(String(format: "  (the loop with no selection, ecmp's first round: %.2f ms of CPU)", floor)) }
}
