// Simulator cost: a k-ary fat-tree with one long-lived flow per host (a random bijection), 60
// simulated seconds, a control loop every second that measures every flow and link and moves up
// to 64 flows off the busiest fabric links (so each round also re-routes and recomputes rates).
// Target: k = 32 (8,192 hosts, 1,280 switches) in under 30 s of wall time.
import Simulation
import Topology

/// ECMP forwarding plus a simple control loop: each round, flows crossing the most utilised
/// fabric links are moved to their least-loaded equal-cost path.
struct RebalancingScheduler: FlowScheduler {
    var name: String { "rebalance" }
    var forwarding: Forwarding { .ecmp(salt: 7) }
    var timing: ControlTiming? { ControlTiming(interval: 1, installDelay: 0.005) }
    var moved = 0

    mutating func control(_ view: MeasurementView) -> [ControlCommand] {
        let net = view.network
        var util = (0..<net.directedLinkCount).map { view.utilization($0) }
        // Flows on links above 99 % utilisation, fullest links first, at most 64 moves.
        var candidates: [(Double, FlowMeasurement)] = []
        for f in view.flows where !f.pinned {
            let worst = f.path.map { net.isFabric[Int($0)] ? util[Int($0)] : 0 }.max() ?? 0
            if worst > 0.99 { candidates.append((worst, f)) }
        }
        candidates.sort { ($0.0, $1.1.id) > ($1.0, $0.1.id) }
        var out: [ControlCommand] = []
        for (_, f) in candidates.prefix(64) {
            let paths = net.routing.equalCostPaths(from: f.spec.src, to: f.spec.dst, in: net.topology)
            var best: Path?
            var bestCost = Double.infinity
            for p in paths {
                var cost = 0.0
                for l in p.links { cost = max(cost, util[l.index]) }
                if cost < bestCost { bestCost = cost; best = p }
            }
            guard let best else { continue }
            let share = f.rate / net.capacities[Int(f.path[0])]
            for l in f.path { util[Int(l)] -= share }
            for l in best.links { util[l.index] += share }
            out.append(.pin(f.id, best))
        }
        moved += out.count
        return out
    }
}

func simulationBench() {
    let wanted = [8, 16, 32, 48]
    print("fat-tree, one long-lived flow per host, 60 simulated s, control every 1 s")
    print("   k   hosts switches  build(s)  run(s)  events  recomputes  ms/round  throughput  ecmp-only run(s)")
    for k in wanted {
        let runs = k == 32 ? 3 : 1
        var times: [Double] = []
        var line = ""
        for _ in 0..<runs {
            let t0 = nowNanos()
            guard let topo = try? Topology.fatTree(k: k) else { return }
            let net = SimNetwork(topo)
            let e = Experiment(topology: topo, workloads: [.bijection], schedulers: [], seeds: [1],
                               config: SimulationConfig(duration: 60))
            let flows = e.flows(.bijection, seed: 1)
            let t1 = nowNanos()
            var sim = Simulator(network: net, flows: flows, scheduler: RebalancingScheduler(), config: e.config)
            let r = sim.run()
            let t2 = nowNanos()
            // The same flows under plain ECMP (no control loop): the simulator's own floor.
            var plain = Simulator(network: net, flows: flows, scheduler: ECMPScheduler(seed: 1), config: e.config)
            let r0 = plain.run()
            let t3 = nowNanos()
            let build = Double(t1 - t0) / 1e9, run = Double(t2 - t1) / 1e9, ecmpRun = Double(t3 - t2) / 1e9
            times.append(build + run)
            line = "\(pad(k, 4)) \(pad(topo.hosts.count, 7)) \(pad(topo.switches.count, 8)) \(pad(formatNumber(build), 9)) "
                + "\(pad(formatNumber(run), 7)) \(pad(r.events, 7)) \(pad(r.recomputations, 11)) "
                + "\(pad(formatNumber(run * 1000 / 60), 9)) \(pad(formatNumber(r.normalizedThroughput), 11)) "
                + "\(pad(formatNumber(ecmpRun), 17))  (ecmp throughput \(formatNumber(r0.normalizedThroughput)))"
        }
        print(line)
        if runs > 1 {
            Measurement(name: "simulate fat-tree k=\(k) wall time (build + run)", unit: "s", values: times).report()
        }
    }
}

private func pad(_ v: some CustomStringConvertible, _ n: Int) -> String {
    let s = v.description
    return s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
}
