// Equal-cost shortest paths. Cost is the number of switch-to-switch hops; ECMP in a Clos fabric
// spreads flows over every path of minimal length, which a switch realises hop by hop: at each
// switch the next hops are the neighbours one hop closer to the destination's switch.

/// A path from a host to a host: the directed links crossed, host uplink first, host downlink last.
public struct Path: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var links: [DirectedLinkID]
    public init(_ links: [DirectedLinkID]) { self.links = links }

    public var description: String { links.map(\.description).joined(separator: " ") }

    public static func < (a: Self, b: Self) -> Bool { a.links.lexicographicallyPrecedes(b.links) }
}

/// What a switch does for a flow on a path: it takes it in on one port and sends it out of another.
public struct Hop: Hashable, Sendable {
    public var switchID: SwitchID
    public var inPort: UInt32
    public var outPort: UInt32
}

extension Topology {
    /// Switch-to-switch neighbours of each switch: (egress direction, neighbour), by port number.
    public var switchNeighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]] { neighbourCache }

    /// Hop counts from every switch to `target` over switch-to-switch links (`Int.max` if unreachable).
    public func switchDistances(to target: SwitchID) -> [Int] {
        Topology.bfs(from: target, neighbours: switchNeighbours)
    }

    static func bfs(from target: SwitchID, neighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]]) -> [Int] {
        var dist = [Int](repeating: .max, count: neighbours.count)
        dist[target.index] = 0
        var queue = [target.index]
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            for (_, n) in neighbours[s] where dist[n.index] == .max {
                dist[n.index] = dist[s] + 1
                queue.append(n.index)
            }
        }
        return dist
    }

    /// Every shortest path from `src` to `dst` (k²/4 between pods of a k-ary fat-tree), in a fixed
    /// order (by egress port at each hop). Stops after `limit` paths. Empty if there is none.
    public func equalCostPaths(from src: HostID, to dst: HostID, limit: Int = 65_536) -> [Path] {
        guard src != dst else { return [] }
        let s = hosts[src.index].attachment.switchID, t = hosts[dst.index].attachment.switchID
        let nb = switchNeighbours
        let dist = Topology.bfs(from: t, neighbours: nb)
        guard dist[s.index] != .max else { return [] }
        var out: [Path] = []
        var stack: [DirectedLinkID] = [uplink(of: src)]
        func walk(_ at: Int) {
            guard out.count < limit else { return }
            if at == t.index {
                out.append(Path(stack + [downlink(of: dst)]))
                return
            }
            for (egress, n) in nb[at] where dist[n.index] == dist[at] - 1 {
                stack.append(egress)
                walk(n.index)
                stack.removeLast()
            }
        }
        walk(s.index)
        return out
    }

    /// The switches a path crosses, with the ports it enters and leaves by.
    public func hops(of path: Path) -> [Hop] {
        var out: [Hop] = []
        for (i, d) in path.links.enumerated().dropLast() {
            guard let inPort = ends(of: d).to.switchPort, let outPort = ends(of: path.links[i + 1]).from.switchPort,
                  inPort.switchID == outPort.switchID else { return out }
            out.append(Hop(switchID: inPort.switchID, inPort: inPort.port, outPort: outPort.port))
        }
        return out
    }

    /// True when each link of `path` starts where the previous one ends, from `src`'s uplink to `dst`'s downlink.
    public func isValidPath(_ path: Path, from src: HostID, to dst: HostID) -> Bool {
        guard let first = path.links.first, let last = path.links.last,
              first == uplink(of: src), last == downlink(of: dst) else { return false }
        for i in 1..<path.links.count {
            guard path.links[i].link.index < links.count,
                  let inPort = ends(of: path.links[i - 1]).to.switchPort,
                  let outPort = ends(of: path.links[i]).from.switchPort,
                  inPort.switchID == outPort.switchID else { return false }
        }
        return true
    }
}

/// Shortest-path next hops toward every switch that has hosts: what each switch's ECMP group holds.
/// Built once per topology (one breadth-first search per host-facing switch).
public struct RoutingTable: Sendable {
    public let neighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]]
    /// `neighbours` end to end (switch `s`'s are `flat[firstNeighbour[s] ..< firstNeighbour[s + 1]]`),
    /// for the path enumeration: one array, read without retaining an inner one at every step.
    private let flat: [(egress: DirectedLinkID, neighbour: Int32)]
    private let firstNeighbour: [Int]
    /// Row per destination switch with hosts: hop count from each switch (UInt8.max: unreachable).
    private let distances: [[UInt8]]
    private let row: [Int] // switch index -> row in `distances`, or -1

    public init(_ topology: Topology) {
        neighbours = topology.switchNeighbours
        var flat: [(egress: DirectedLinkID, neighbour: Int32)] = [], first: [Int] = []
        for nb in neighbours {
            first.append(flat.count)
            for (e, n) in nb { flat.append((e, Int32(n.index))) }
        }
        first.append(flat.count)
        self.flat = flat
        firstNeighbour = first
        var row = [Int](repeating: -1, count: topology.switches.count)
        var distances: [[UInt8]] = []
        for h in topology.hosts {
            let t = h.attachment.switchID.index
            guard row[t] < 0 else { continue }
            row[t] = distances.count
            distances.append(Topology.bfs(from: SwitchID(t), neighbours: neighbours).map { $0 >= 255 ? 255 : UInt8($0) })
        }
        self.distances = distances
        self.row = row
    }

    /// Hops from `s` to `target` (nil if `target` has no hosts or cannot be reached).
    public func distance(from s: SwitchID, to target: SwitchID) -> Int? {
        let r = row[target.index]
        guard r >= 0, distances[r][s.index] != 255 else { return nil }
        return Int(distances[r][s.index])
    }

    /// Every shortest path between two hosts of `topology` (the one this table was built from), as
    /// `Topology.equalCostPaths` gives them, without a search per call.
    public func equalCostPaths(from src: HostID, to dst: HostID, in topology: Topology, limit: Int = 65_536) -> [Path] {
        guard src != dst else { return [] }
        return paths(from: topology.hosts[src.index].attachment.switchID, to: topology.hosts[dst.index].attachment.switchID,
                     first: topology.uplink(of: src), last: topology.downlink(of: dst), limit: limit)
    }

    /// The equal-cost next hops at `s` toward `target`, by egress port number (empty at `target`).
    public func nextHops(at s: SwitchID, toward target: SwitchID) -> [(egress: DirectedLinkID, neighbour: SwitchID)] {
        let r = row[target.index]
        guard r >= 0 else { return [] }
        let d = distances[r]
        let here = d[s.index]
        guard here != 255, here > 0 else { return [] }
        return neighbours[s.index].filter { d[$0.neighbour.index] == here - 1 }
    }

    /// Every shortest path from switch `s` to switch `t` as host paths: `first`, the switch links
    /// in the order `equalCostPaths` gives them (by egress port at each hop), then `last`. A loop
    /// with its own stack, not a recursive walk: the control round asks this for every host pair
    /// that carries an elephant (8,192 pairs of 256 paths in the first round of a k=32 bijection),
    /// and a walk that allocates a next-hop array per switch, or captures its stack in a closure,
    /// cost most of that round's path enumeration. Stops after `limit` paths.
    public func paths(from s: SwitchID, to t: SwitchID, first: DirectedLinkID, last: DirectedLinkID, limit: Int = .max) -> [Path] {
        let r = row[t.index]
        guard r >= 0, limit > 0 else { return [] }
        return distances[r].withUnsafeBufferPointer { d -> [Path] in
            guard d[s.index] != 255 else { return [] }
            return flat.withUnsafeBufferPointer { nb in
                firstNeighbour.withUnsafeBufferPointer { firstOf in
                    var out: [Path] = []
                    var links: [DirectedLinkID] = [first]
                    var nodes: [Int] = [s.index]
                    // Per switch on the stack: the next of its neighbours to try, as an index into `nb`.
                    var next: [Int] = [firstOf[s.index]]
                    links.reserveCapacity(16)
                    nodes.reserveCapacity(16)
                    next.reserveCapacity(16)
                    while let at = nodes.last {
                        if at == t.index {
                            var p = [DirectedLinkID]()
                            p.reserveCapacity(links.count + 1)
                            p.append(contentsOf: links)
                            p.append(last)
                            out.append(Path(p))
                            if out.count >= limit { break }
                        } else {
                            let end = firstOf[at + 1], want = d[at] &- 1
                            var k = next[next.count - 1]
                            while k < end && d[Int(nb[k].neighbour)] != want { k += 1 }
                            if k < end {
                                next[next.count - 1] = k + 1
                                links.append(nb[k].egress)
                                let n = Int(nb[k].neighbour)
                                nodes.append(n)
                                next.append(firstOf[n])
                                continue
                            }
                        }
                        nodes.removeLast()
                        next.removeLast()
                        links.removeLast()
                    }
                    return out
                }
            }
        }
    }
}
