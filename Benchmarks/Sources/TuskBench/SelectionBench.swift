// Cost of one selection round: a random bijection on a k-ary fat-tree, every flow at host rate on a
// random equal-cost path (what ECMP hashing gives), every flow an elephant. Three rounds are timed:
// the first (everything collides, the most work a round ever does), the one after it (the first
// round's moves applied), and a settled one (after five rounds), each with a fresh selector, then the
// settled one round after round with the same selector (its backoff); Hedera's Global First Fit
// runs on the same inputs beside it. Decisions are the same on every run (seeded); only the time varies.
//
// TUSK_BENCH_K=64 runs the k=64 case alone (65,536 elephants of 1,024 candidates each: it takes
// minutes and gigabytes, so it is not part of the default run), each timing once.
import Foundation
import Packets
import PathSelection
import Simulation
import Topology

func selectionBench() {
    let only = ProcessInfo.processInfo.environment["TUSK_BENCH_K"].flatMap(Int.init)
    for k in only.map({ [$0] }) ?? [16, 32] {
        let runs = k >= 64 ? 1 : 3
        let setUp = threadCPUNanos()
        let t = try! Topology.fatTree(k: k)
        let n = t.hosts.count
        var rng = SeededGenerator(seed: 11)
        var dst = Array(0..<n)
        repeat { dst.shuffle(using: &rng) } while dst.enumerated().contains { $0.offset == $0.element }
        let cap = (0..<(t.links.count * 2)).map { Double(t.capacity(of: DirectedLinkID($0))) }
        var flows: [ElephantFlow] = []
        // Candidates as the control round gives them: described by the routing table, not listed.
        let routing = RoutingTable(t)
        for s in 0..<n {
            let ps = routing.candidatePaths(from: t.hosts[s].attachment.switchID, to: t.hosts[dst[s]].attachment.switchID,
                                            first: t.uplink(of: HostID(s)), last: t.downlink(of: HostID(dst[s])))
            let key = FlowKey(src: .v4(IPv4Address(UInt32(0x0A00_0000 + s))), dst: .v4(IPv4Address(UInt32(0x0A00_0000 + dst[s]))),
                              proto: 6, sport: 40000, dport: 5201)
            flows.append(ElephantFlow(key: key, src: HostID(s), dst: HostID(dst[s]), rate: 1e9, demand: 1e9,
                                      current: ps[Int.random(in: 0..<ps.count, using: &rng)], candidates: ps))
        }
        func input(_ fs: [ElephantFlow], time: Double) -> SelectionInput {
            var load = [Double](repeating: 0, count: cap.count)
            for f in fs { for l in f.current!.links { load[l.index] += f.demand } }
            return SelectionInput(time: time, flows: fs, load: load, capacity: cap)
        }
        func overloaded(_ fs: [ElephantFlow]) -> Int {
            let l = input(fs, time: 0).load
            return l.indices.filter { l[$0] > cap[$0] * 1.0001 }.count
        }
        print("k=\(k): \(n) elephants, \(flows.reduce(0) { $0 + $1.candidates.count }) candidate paths, set up in \(formatNumber(Double(threadCPUNanos() - setUp) / 1e9)) s")
        let rules = StabilityRules(maxMoves: n)
        // The three states: ECMP, after one round, after five.
        var states = [flows]
        var sel = TuskSelector(seed: 1)
        var cur = flows
        for round in 1...5 {
            let r = sel.select(input(cur, time: Double(round)), rules: rules)
            let to = Dictionary(r.decisions.map { ($0.key, $0.to) }, uniquingKeysWith: { a, _ in a })
            for i in cur.indices { if let p = to[cur[i].key] { cur[i].current = p } }
            if round == 1 || round == 5 { states.append(cur) }
        }
        for (name, state) in zip(["first round (ECMP start)", "second round", "settled (after 5)"], states) {
            print("k=\(k) \(name): \(n) elephants, \(overloaded(state)) oversubscribed links")
            var moves = 0
            let tusk = measureThroughput("  tusk round, k=\(k), \(name)", unit: "rounds/s", runs: runs, warmUp: k < 64, allThreads: true) {
                var s = TuskSelector(seed: 1)
                moves = s.select(input(state, time: 1), rules: rules).decisions.count
                return 1
            }
            print("  tusk moves \(moves)")
            let gff = measureThroughput("  gff round, k=\(k), \(name)", unit: "rounds/s", runs: runs, warmUp: k < 64, allThreads: true) {
                var g = GlobalFirstFit()
                _ = g.select(input(state, time: 1), rules: rules)
                return 1
            }
            print("  tusk round: \(formatNumber(1000 / tusk.median)) ms, gff round: \(formatNumber(1000 / gff.median)) ms (CPU time of all threads, medians)")
        }
        // The settled state again and again, as the control loop sees it: after a round where the
        // rearranging phases found nothing, they back off while the elephants and paths stay the same.
        var again = TuskSelector(seed: 1)
        var round = 0.0
        let repeated = measureThroughput("  tusk round, k=\(k), settled, repeated", unit: "rounds/s", runs: 3 * runs, warmUp: k < 64, allThreads: true) {
            round += 1
            _ = again.select(input(states[2], time: round), rules: rules)
            return 1
        }
        print("  tusk round, settled and repeated: \(formatNumber(1000 / repeated.median)) ms (CPU time of all threads, median of \(3 * runs) rounds)")
        print("  resident: \(residentBytes() >> 20) MB")
    }
}
