// Equal-cost path enumeration, as a control round does it for each host pair that carries an
// elephant (the first round of a k=32 bijection asks for 8,192 pairs of 256 paths): the routing
// table's loop (`RoutingTable.equalCostPaths`) against the topology's plain recursive walk
// (`Topology.equalCostPaths`, one breadth-first search per pair) on the same pairs, in the same run.
import Packets
import Topology

func pathsBench() {
    for k in [16, 32] {
        let t = try! Topology.fatTree(k: k)
        let routing = RoutingTable(t)
        // A seeded bijection of the hosts (each host sends to one other, none to itself).
        var rng = SeededGenerator(seed: 1)
        let n = t.hosts.count
        var dst = Array(0..<n)
        dst.shuffle(using: &rng)
        let pairs = (0..<n).map { (HostID($0), HostID(dst[$0] == $0 ? ($0 + 1) % n : dst[$0])) }
        var total = 0
        for (s, d) in pairs { total += routing.equalCostPaths(from: s, to: d, in: t).count }
        print("k=\(k): \(pairs.count) host pairs, \(total) paths")
        let table = measureThroughput("  RoutingTable.equalCostPaths (the control round's)", unit: "paths/s", runs: 5) {
            var c = 0
            for (s, d) in pairs { c += routing.equalCostPaths(from: s, to: d, in: t).count }
            return c
        }
        let walk = measureThroughput("  Topology.equalCostPaths (reference walk)", unit: "paths/s", runs: 3) {
            var c = 0
            for (s, d) in pairs { c += t.equalCostPaths(from: s, to: d).count }
            return c
        }
        print("  all pairs: \(formatNumber(Double(total) / table.median * 1000)) ms against \(formatNumber(Double(total) / walk.median * 1000)) ms; ratio \(formatNumber(table.median / walk.median))x")
    }
}
